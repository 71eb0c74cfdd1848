// Direct 3x3 stride-1 SAME convolution kernels; see include/CConvolution.h.
//
// Layouts inside one call:
//   packed filters  [block][inChannel][tap 0..8][lanes]   (output channels of a block in the lanes,
//                                                         zero beyond the last output channel)
//   padded input    [inChannel][height + 2][paddedWidth]  (one zero pixel above, below and left; zeros
//                                                         on the right wide enough for a whole strip)
//   blocked dy      [block][height][width][lanes]          (weight gradient only)
// The forward kernel keeps a strip of S output pixels of two filter blocks in registers and streams
// the input channels through it; the weight-gradient kernel keeps the 9 taps of one input channel for
// one or two filter blocks in registers and streams the pixels through them. Each kernel set is the
// same generic-vector code compiled for its instruction set.
#include "CConvolution.h"

#include <string.h>

enum { MAX_LANES = 16, MAX_STRIP = 8, TAPS = 9 };

typedef float vf4 __attribute__((vector_size(16), aligned(4)));
typedef float vf8 __attribute__((vector_size(32), aligned(4)));
typedef float vf16 __attribute__((vector_size(64), aligned(4)));

static int padded_width(int width) { return width + 2 + MAX_STRIP; }

// Copies one image into the zero-bordered layout described above.
static void pad_input(const float *x, int channels, int height, int width, float *xp) {
    const int wp = padded_width(width);
    const size_t plane = (size_t)(height + 2) * wp;
    memset(xp, 0, sizeof(float) * plane * (size_t)channels);
    for (int c = 0; c < channels; c++)
        for (int y = 0; y < height; y++)
            memcpy(xp + c * plane + (size_t)(y + 1) * wp + 1, x + ((size_t)c * height + y) * width,
                   sizeof(float) * (size_t)width);
}

// The strip width among {a, b} that wastes fewer computed columns on a row of `width` (a on ties).
static int strip_for(int width, int a, int b) {
    const int wasteA = (width + a - 1) / a * a - width, wasteB = (width + b - 1) / b * b - width;
    return wasteB < wasteA ? b : a;
}

// Writes a finished strip: lane j of acc[k][s] is output channel (block + k) * VL + j at column x0 + s.
static void store_strip(const float *tile, int blocks, int lanes, int strip, int count, int block, int outChannels,
                        int height, int width, int y, int x0, int relu, float *out) {
    for (int k = 0; k < blocks; k++)
        for (int j = 0; j < lanes; j++) {
            const int o = (block + k) * lanes + j;
            if (o >= outChannels) return;
            float *row = out + ((size_t)o * height + y) * width + x0;
            const float *src = tile + (size_t)k * strip * lanes + j;
            if (relu) {
                // v < 0 ? 0 : v, not v > 0 ? v : 0: a NaN must stay NaN, as in Tangent's other ReLU.
                for (int s = 0; s < count; s++) { const float v = src[s * lanes]; row[s] = v < 0 ? 0 : v; }
            } else {
                for (int s = 0; s < count; s++) row[s] = src[s * lanes];
            }
        }
}

// Adds acc[k][t] (lane j = output channel (block + k) * VL + j) to dw[o][c][t].
static void add_taps(const float *tile, int blocks, int lanes, int block, int outChannels, int inChannels, int c,
                     float *dw) {
    for (int k = 0; k < blocks; k++)
        for (int j = 0; j < lanes; j++) {
            const int o = (block + k) * lanes + j;
            if (o >= outChannels) return;
            float *taps = dw + ((size_t)o * inChannels + c) * TAPS;
            for (int t = 0; t < TAPS; t++) taps[t] += tile[((size_t)k * TAPS + t) * lanes + j];
        }
}

// One kernel set: vector type VT of VL lanes, compiled with ATTR. Forward strips of SA or SB pixels
// for NB (1 or 2) filter blocks; the weight gradient for WB filter blocks at a time.
#define DEFINE_KERNELS(SUFFIX, ATTR, VT, VL, SA, SB, WB)                                                          \
    ATTR __attribute__((always_inline)) static inline void strip_##SUFFIX(                                       \
        const float *xr, int wp, size_t plane, const float *w0, size_t blockStride, int channels, VT *acc,        \
        const int nb, const int strip) {                                                                         \
        for (int c = 0; c < channels; c++) {                                                                     \
            const float *xc = xr + (size_t)c * plane;                                                            \
            const float *wc = w0 + (size_t)c * TAPS * VL;                                                        \
            for (int t = 0; t < TAPS; t++) {                                                                     \
                const float *xt = xc + (t / 3) * wp + (t % 3);                                                   \
                const VT wa = *(const VT *)(wc + t * VL);                                                        \
                if (nb == 2) {                                                                                   \
                    const VT wb = *(const VT *)(wc + blockStride + t * VL);                                      \
                    for (int s = 0; s < strip; s++) {                                                            \
                        const float v = xt[s];                                                                   \
                        acc[s] += wa * v;                                                                        \
                        acc[strip + s] += wb * v;                                                                \
                    }                                                                                            \
                } else {                                                                                         \
                    for (int s = 0; s < strip; s++) acc[s] += wa * xt[s];                                        \
                }                                                                                                \
            }                                                                                                    \
        }                                                                                                        \
    }                                                                                                            \
                                                                                                                 \
    ATTR __attribute__((always_inline)) static inline void rows_##SUFFIX(                                        \
        const float *xp, int channels, int height, int width, const float *packed, int outChannels,              \
        const float *bias, int relu, float *out, const int strip) {                                              \
        const int blocks = (outChannels + VL - 1) / VL, wp = padded_width(width);                               \
        const size_t plane = (size_t)(height + 2) * wp, blockStride = (size_t)channels * TAPS * VL;             \
        for (int block = 0; block < blocks; block += 2) {                                                        \
            const int nb = blocks - block >= 2 ? 2 : 1;                                                          \
            VT initial[2];                                                                                       \
            for (int k = 0; k < 2; k++) {                                                                        \
                float lanes[VL];                                                                                 \
                for (int j = 0; j < VL; j++) {                                                                   \
                    const int o = (block + k) * VL + j;                                                          \
                    lanes[j] = (bias && o < outChannels) ? bias[o] : 0.0f;                                       \
                }                                                                                                \
                memcpy(&initial[k], lanes, sizeof(VT));                                                          \
            }                                                                                                    \
            const float *w0 = packed + (size_t)block * blockStride;                                              \
            for (int y = 0; y < height; y++)                                                                     \
                for (int x0 = 0; x0 < width; x0 += strip) {                                                      \
                    VT acc[2 * MAX_STRIP];                                                                       \
                    for (int s = 0; s < strip; s++) { acc[s] = initial[0]; acc[strip + s] = initial[1]; }        \
                    const float *xr = xp + (size_t)y * wp + x0;                                                  \
                    if (nb == 2) strip_##SUFFIX(xr, wp, plane, w0, blockStride, channels, acc, 2, strip);        \
                    else strip_##SUFFIX(xr, wp, plane, w0, blockStride, channels, acc, 1, strip);                \
                    const int count = width - x0 < strip ? width - x0 : strip;                                   \
                    store_strip((const float *)acc, nb, VL, strip, count, block, outChannels, height, width, y, \
                                x0, relu, out);                                                                  \
                }                                                                                                \
        }                                                                                                        \
    }                                                                                                            \
                                                                                                                 \
    ATTR static void forward_##SUFFIX(const float *xp, int channels, int height, int width,                     \
                                      const float *packed, int outChannels, const float *bias, int relu,        \
                                      float *out) {                                                              \
        if (strip_for(width, SA, SB) == SA)                                                                      \
            rows_##SUFFIX(xp, channels, height, width, packed, outChannels, bias, relu, out, SA);                \
        else                                                                                                     \
            rows_##SUFFIX(xp, channels, height, width, packed, outChannels, bias, relu, out, SB);                \
    }                                                                                                            \
                                                                                                                 \
    ATTR static void weight_gradient_##SUFFIX(const float *xp, const float *dyb, int channels, int height,       \
                                              int width, int outChannels, float *dw) {                           \
        const int blocks = (outChannels + VL - 1) / VL, wp = padded_width(width);                               \
        const size_t plane = (size_t)(height + 2) * wp, dyBlock = (size_t)height * width * VL;                   \
        for (int c = 0; c < channels; c++)                                                                       \
            for (int block = 0; block < blocks; block += WB) {                                                   \
                const int nb = blocks - block >= WB ? WB : blocks - block;                                       \
                VT acc[WB * TAPS];                                                                               \
                for (int i = 0; i < WB * TAPS; i++) acc[i] = (VT){0};                                            \
                const float *d0 = dyb + (size_t)block * dyBlock;                                                 \
                for (int y = 0; y < height; y++) {                                                               \
                    const float *xr = xp + (size_t)c * plane + (size_t)y * wp;                                   \
                    const float *dr = d0 + (size_t)y * width * VL;                                               \
                    if (nb == WB) {                                                                              \
                        for (int x = 0; x < width; x++) {                                                        \
                            VT d[WB];                                                                            \
                            for (int k = 0; k < WB; k++) d[k] = *(const VT *)(dr + k * dyBlock + (size_t)x * VL); \
                            for (int t = 0; t < TAPS; t++) {                                                     \
                                const float v = xr[(t / 3) * wp + (t % 3) + x];                                  \
                                for (int k = 0; k < WB; k++) acc[k * TAPS + t] += d[k] * v;                      \
                            }                                                                                    \
                        }                                                                                        \
                    } else {                                                                                     \
                        for (int x = 0; x < width; x++) {                                                        \
                            const VT d = *(const VT *)(dr + (size_t)x * VL);                                     \
                            for (int t = 0; t < TAPS; t++) acc[t] += d * xr[(t / 3) * wp + (t % 3) + x];         \
                        }                                                                                        \
                    }                                                                                            \
                }                                                                                                \
                add_taps((const float *)acc, nb, VL, block, outChannels, channels, c, dw);                       \
            }                                                                                                    \
    }

#define PORTABLE_ATTR
DEFINE_KERNELS(portable, PORTABLE_ATTR, vf4, 4, 6, 4, 1)

#if defined(__x86_64__) || defined(__i386__)
#define X86_KERNELS 1
DEFINE_KERNELS(avx2, __attribute__((target("avx2,fma"))), vf8, 8, 6, 4, 1)
DEFINE_KERNELS(avx512, __attribute__((target("avx512f"))), vf16, 16, 8, 7, 2)
#endif

static int supported_isa(void) {
#ifdef X86_KERNELS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return TANGENT_CONV_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return TANGENT_CONV_AVX2;
#endif
    return TANGENT_CONV_PORTABLE;
}

// 0 until first use; written again only by tangent_conv_select_isa.
static int active = 0;

int tangent_conv_supported_isa(void) { return supported_isa(); }

int tangent_conv_active_isa(void) {
    if (active == 0) active = supported_isa();
    return active;
}

int tangent_conv_select_isa(int isa) {
    const int widest = supported_isa();
    active = isa < TANGENT_CONV_PORTABLE ? TANGENT_CONV_PORTABLE : (isa > widest ? widest : isa);
    return active;
}

int tangent_conv_lanes(void) {
    switch (tangent_conv_active_isa()) {
    case TANGENT_CONV_AVX512: return 16;
    case TANGENT_CONV_AVX2: return 8;
    default: return 4;
    }
}

size_t tangent_conv3x3_packed_size(int inChannels, int outChannels) {
    const int lanes = tangent_conv_lanes();
    return (size_t)(outChannels + lanes - 1) / lanes * (size_t)inChannels * TAPS * lanes;
}

void tangent_conv3x3_pack(const float *weight, int outChannels, int inChannels, int transpose, float *packed) {
    const int lanes = tangent_conv_lanes();
    // The packed convolution maps `from` channels to `to` channels.
    const int to = transpose ? inChannels : outChannels, from = transpose ? outChannels : inChannels;
    memset(packed, 0, sizeof(float) * tangent_conv3x3_packed_size(from, to));
    for (int o = 0; o < to; o++)
        for (int c = 0; c < from; c++)
            for (int t = 0; t < TAPS; t++) {
                // The input gradient correlates dy with w[c][o] rotated by 180 degrees: tap t reads 8 - t.
                const float v = transpose ? weight[((size_t)c * inChannels + o) * TAPS + (TAPS - 1 - t)]
                                          : weight[((size_t)o * inChannels + c) * TAPS + t];
                packed[(((size_t)(o / lanes) * from + c) * TAPS + t) * lanes + o % lanes] = v;
            }
}

size_t tangent_conv3x3_scratch_size(int inChannels, int outChannels, int height, int width) {
    const size_t padded = (size_t)inChannels * (height + 2) * padded_width(width);
    const size_t blocked = (size_t)(outChannels + MAX_LANES - 1) / MAX_LANES * MAX_LANES * height * width;
    return padded + blocked;
}

void tangent_conv3x3_forward(const float *x, int inChannels, int height, int width, const float *packed,
                             int outChannels, const float *bias, int relu, float *out, float *scratch) {
    pad_input(x, inChannels, height, width, scratch);
    switch (tangent_conv_active_isa()) {
#ifdef X86_KERNELS
    case TANGENT_CONV_AVX512:
        forward_avx512(scratch, inChannels, height, width, packed, outChannels, bias, relu, out);
        return;
    case TANGENT_CONV_AVX2:
        forward_avx2(scratch, inChannels, height, width, packed, outChannels, bias, relu, out);
        return;
#endif
    default:
        forward_portable(scratch, inChannels, height, width, packed, outChannels, bias, relu, out);
    }
}

void tangent_conv3x3_weight_gradient(const float *x, const float *dy, int inChannels, int height, int width,
                                     int outChannels, float *dw, float *scratch) {
    pad_input(x, inChannels, height, width, scratch);
    const int lanes = tangent_conv_lanes(), blocks = (outChannels + lanes - 1) / lanes;
    float *dyb = scratch + (size_t)inChannels * (height + 2) * padded_width(width);
    const size_t pixels = (size_t)height * width;
    for (int block = 0; block < blocks; block++)
        for (size_t p = 0; p < pixels; p++)
            for (int j = 0; j < lanes; j++) {
                const int o = block * lanes + j;
                dyb[((size_t)block * pixels + p) * lanes + j] = o < outChannels ? dy[(size_t)o * pixels + p] : 0.0f;
            }
    switch (tangent_conv_active_isa()) {
#ifdef X86_KERNELS
    case TANGENT_CONV_AVX512:
        weight_gradient_avx512(scratch, dyb, inChannels, height, width, outChannels, dw);
        return;
    case TANGENT_CONV_AVX2:
        weight_gradient_avx2(scratch, dyb, inChannels, height, width, outChannels, dw);
        return;
#endif
    default:
        weight_gradient_portable(scratch, dyb, inChannels, height, width, outChannels, dw);
    }
}
