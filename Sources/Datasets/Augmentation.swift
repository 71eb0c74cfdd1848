import Kernels

/// Data augmentation for CIFAR-style training: a random crop of the image zero-padded by `cropPadding`
/// pixels on every side, and a random horizontal flip, drawn per image from the generator it is given
/// (the training loop's own, saved in checkpoints, so a resumed run stays bit-exact). Off by default;
/// the paper uses none.
public struct Augmentation: Sendable, Equatable, Codable {
    /// Zero padding before the random crop back to the original size (4 in the usual CIFAR recipe);
    /// 0 turns cropping off.
    public var cropPadding: Int
    /// Flip each image left–right with probability 1/2.
    public var horizontalFlip: Bool

    /// An augmentation; `cropPadding` must not be negative.
    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) throws {
        guard cropPadding >= 0 else { throw AugmentationError.invalid("crop padding must not be negative; got \(cropPadding)") }
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// True when it changes nothing.
    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip }

    /// Checks that the augmentation suits `dataset`: a crop padding smaller than the image, and flips
    /// only on images wider than one pixel.
    public func validate(for dataset: ImageDataset) throws {
        if cropPadding >= min(dataset.height, dataset.width) {
            throw AugmentationError.invalid("crop padding \(cropPadding) does not fit \(dataset.name)'s \(dataset.height)×\(dataset.width) images")
        }
        if horizontalFlip && dataset.width < 2 {
            throw AugmentationError.invalid("a horizontal flip needs images at least 2 pixels wide; \(dataset.name)'s are \(dataset.width)")
        }
    }

    /// Augments `count` NCHW images of `channels × height × width` in place. Each image draws its
    /// offsets and flip from `rng` in a fixed order (crop row, crop column, flip), so the result
    /// depends only on the generator's state.
    public func apply(_ images: UnsafeMutablePointer<Float>, count: Int, channels: Int, height: Int, width: Int,
                      rng: inout Xoshiro256) {
        guard !isIdentity else { return }
        let plane = height * width
        var scratch = [Float](repeating: 0, count: channels * plane)
        for n in 0..<count {
            let image = images + n * channels * plane
            let span = UInt64(2 * cropPadding + 1)
            let dy = cropPadding > 0 ? Int(rng.next() % span) - cropPadding : 0
            let dx = cropPadding > 0 ? Int(rng.next() % span) - cropPadding : 0
            let flip = horizontalFlip && (rng.next() & 1) == 1
            scratch.withUnsafeMutableBufferPointer { out in
                for c in 0..<channels {
                    for y in 0..<height {
                        let sy = y + dy
                        for x in 0..<width {
                            let sx = (flip ? width - 1 - x : x) + dx
                            out[c * plane + y * width + x] = (sy >= 0 && sy < height && sx >= 0 && sx < width)
                                ? image[c * plane + sy * width + sx] : 0
                        }
                    }
                }
                image.update(from: out.baseAddress!, count: channels * plane)
            }
        }
    }
}

/// An augmentation asked for with settings or on data it cannot apply to.
public enum AugmentationError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let s): return s }
    }
}
