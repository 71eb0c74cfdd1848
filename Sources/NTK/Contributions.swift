import Autodiff
import Kernels

/// Where contributions are added: a row-major block of the kernel with row stride `ldc`. For the
/// kernel of one batch with itself (`symmetric`), only the upper triangle is written (SYRK);
/// for a cross kernel Θ(X₁, X₂), the whole block (GEMM).
struct KernelBlock {
    let pointer: UnsafeMutablePointer<Float>
    let ldc: Int
    let symmetric: Bool
}

/// Adds A Bᵀ (B = A for a symmetric block: SYRK) with A rowsA × k and B rowsB × k, both with row stride k.
func addGram(_ a: UnsafePointer<Float>, rows rowsA: Int, _ b: UnsafePointer<Float>, rows rowsB: Int, k: Int,
             into block: KernelBlock) {
    if block.symmetric {
        ssyrk(n: rowsA, k: k, a: a, lda: k, beta: 1, c: block.pointer, ldc: block.ldc)
    } else {
        sgemm(transposeB: true, m: rowsA, n: rowsB, k: k, a: a, lda: k, b: b, ldb: k, beta: 1, c: block.pointer, ldc: block.ldc)
    }
}

extension EmpiricalNTK {
    /// Dense: K[(i,c),(j,d)] += (δ_ic·δ_jd)(a_i·a_j·[weight] + [bias]).
    static func addDense(_ left: StructuredUnit, _ right: StructuredUnit, classes: Int, kind: KernelKind,
                         into block: KernelBlock) {
        let nL = left.samples, nR = right.samples, out = left.perSample
        let full = kind == .full, per = full ? classes : 1
        let rowsL = nL * per, rowsR = nR * per
        let k = full ? out : classes * out
        // D = Δ_L Δ_Rᵀ: rows (i, c) of length `out` (full), or rows i of length C·out (traced).
        let d = FloatBuffer.allocate(rowsL * rowsR)
        defer { FloatBuffer.deallocate(d) }
        if block.symmetric {
            ssyrk(n: rowsL, k: k, a: left.cotangents!.pointer, lda: k, c: d, ldc: rowsR)
        } else {
            sgemm(transposeB: true, m: rowsL, n: rowsR, k: k, a: left.cotangents!.pointer, lda: k,
                  b: right.cotangents!.pointer, ldb: k, c: d, ldc: rowsR)
        }
        // A = a_L a_Rᵀ (N_L × N_R), only when the weight takes part.
        let features = left.input.count / nL
        let gram = FloatBuffer.allocateZeroed(nL * nR)
        defer { FloatBuffer.deallocate(gram) }
        if left.weight {
            left.input.withUnsafePointer { pa in
                right.input.withUnsafePointer { pb in
                    if block.symmetric {
                        ssyrk(n: nL, k: features, a: pa, lda: features, c: gram, ldc: nR)
                    } else {
                        sgemm(transposeB: true, m: nL, n: nR, k: features, a: pa, lda: features, b: pb, ldb: features,
                              c: gram, ldc: nR)
                    }
                }
            }
        }
        let biasTerm: Float = left.bias ? 1 : 0
        let kernel = block.pointer, ldc = block.ldc
        for r in 0..<rowsL {
            let i = r / per
            for s in (block.symmetric ? r : 0)..<rowsR {
                let j = s / per
                let a = block.symmetric ? gram[min(i, j) * nR + max(i, j)] : gram[i * nR + j]
                kernel[r * ldc + s] += d[r * rowsR + s] * (a + biasTerm)
            }
        }
    }

    /// Convolution on the stored-δ path: K += G_L G_Rᵀ over tiles of output channels, where row (i, c)
    /// of G is δ_ic · patches_iᵀ, plus the bias term B_L B_Rᵀ with B_ic = Σ_pixels δ_ic.
    static func addConvolution(_ left: StructuredUnit, _ right: StructuredUnit, geometry: ConvGeometry, classes: Int,
                               kind: KernelKind, tileBudget: Int, channelTile: Int?, into block: KernelBlock) {
        let outChannels = geometry.outChannels, patch = geometry.patchSize
        let full = kind == .full, per = full ? classes : 1
        let rowsL = left.samples * per, rowsR = right.samples * per
        let pixels = geometry.outHeight * geometry.outWidth

        if left.weight {
            let sides = block.symmetric ? [left] : [left, right]
            let perChannelBytes = sides.reduce(0) { $0 + $1.samples } * classes * patch * 4
            let tile = max(1, min(outChannels, channelTile ?? tileBudget / max(perChannelBytes, 1)))
            let buffers = sides.map { FloatBuffer.allocate($0.samples * classes * tile * patch) }
            defer { buffers.forEach(FloatBuffer.deallocate) }
            var o0 = 0
            while o0 < outChannels {
                let t = min(tile, outChannels - o0)
                for (side, buffer) in zip(sides, buffers) {
                    buildGradientTile(side, geometry: geometry, classes: classes, channels: o0..<(o0 + t), into: buffer)
                }
                addGram(buffers[0], rows: rowsL, buffers.last!, rows: rowsR, k: (full ? 1 : classes) * t * patch, into: block)
                o0 += t
            }
        }

        if left.bias {
            // B[(i,c), o] = Σ_pixels δ_ic[o, ·]
            let sides = block.symmetric ? [left] : [left, right]
            let sums = sides.map { side -> UnsafeMutablePointer<Float> in
                let s = FloatBuffer.allocate(side.samples * classes * outChannels)
                let delta = side.cotangents!.pointer
                for r in 0..<(side.samples * classes * outChannels) { s[r] = Elementwise.sum(delta + r * pixels, count: pixels) }
                return s
            }
            defer { sums.forEach(FloatBuffer.deallocate) }
            addGram(sums[0], rows: rowsL, sums.last!, rows: rowsR, k: (full ? 1 : classes) * outChannels, into: block)
        }
    }

    /// Rows (i, c) of G for output channels `channels`: δ_ic[channels] (t × pixels) · patches_iᵀ.
    static func buildGradientTile(_ unit: StructuredUnit, geometry: ConvGeometry, classes: Int, channels: Range<Int>,
                                  into gradients: UnsafeMutablePointer<Float>) {
        let outChannels = geometry.outChannels, patch = geometry.patchSize, t = channels.count, o0 = channels.lowerBound
        let g = ConvGeometry(batch: 1, inChannels: geometry.inChannels, height: geometry.height, width: geometry.width,
                             outChannels: outChannels, kernelHeight: geometry.kernelHeight, kernelWidth: geometry.kernelWidth,
                             stride: geometry.stride, padding: geometry.padding)
        let pixels = g.outHeight * g.outWidth
        let inputSize = unit.input.count / unit.samples
        let delta = unit.cotangents!.pointer
        unit.input.withUnsafePointer { x in
            BLASThreads.set(1)
            parallelChunks(unit.samples, minimumPerChunk: 1) { range in
                let patches = FloatBuffer.allocate(patch * pixels)
                // A tile of channels is gathered into one contiguous (classes · t) × pixels block, so that each
                // sample takes one GEMM that packs its patches once rather than one thin GEMM per class.
                let gathered = t == outChannels ? nil : FloatBuffer.allocate(classes * t * pixels)
                defer {
                    FloatBuffer.deallocate(patches)
                    gathered.map(FloatBuffer.deallocate)
                }
                for i in range {
                    im2col(x + i * inputSize, g, into: patches, parallel: false)
                    var rows = UnsafePointer(delta + i * classes * outChannels * pixels)
                    if let gathered {
                        for c in 0..<classes {
                            (gathered + c * t * pixels).update(from: rows + (c * outChannels + o0) * pixels, count: t * pixels)
                        }
                        rows = UnsafePointer(gathered)
                    }
                    sgemm(transposeB: true, m: classes * t, n: patch, k: pixels, a: rows, lda: pixels,
                          b: patches, ldb: pixels, c: gradients + i * classes * t * patch, ldc: patch, threads: 1)
                }
            }
        }
    }

    /// Convolution on the gradient-rows path: K += G_L G_Rᵀ (+ B_L B_Rᵀ for the bias).
    static func addGradientRows(_ left: ConvGradientRows, _ right: ConvGradientRows, kind: KernelKind, into block: KernelBlock) {
        let full = kind == .full, per = full ? 1 : left.classes
        let rowsL = full ? left.samples * left.classes : left.samples
        let rowsR = full ? right.samples * right.classes : right.samples
        addGram(left.rows, rows: rowsL, right.rows, rows: rowsR, k: per * left.outChannels * left.patch, into: block)
        if left.hasBias {
            addGram(left.biasSums, rows: rowsL, right.biasSums, rows: rowsR, k: per * left.outChannels, into: block)
        }
    }

    /// The general rule: K += G_L G_Rᵀ over the per-sample gradient rows.
    static func addGeneric(_ left: GenericRows, _ right: GenericRows, kind: KernelKind, into block: KernelBlock) {
        let full = kind == .full
        let rowsL = full ? left.samples * left.classes : left.samples
        let rowsR = full ? right.samples * right.classes : right.samples
        addGram(left.pointer, rows: rowsL, right.pointer, rows: rowsR, k: (full ? 1 : left.classes) * left.width, into: block)
    }
}
