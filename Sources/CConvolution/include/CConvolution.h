// Direct 3x3 stride-1 SAME convolutions (padding 1) on NCHW images, with vector kernels chosen at
// run time from the processor's features. No patch matrix is built: the output channels sit in the
// vector lanes, each input pixel is broadcast against a block of filters, and bias and ReLU are
// applied while the output tile is still in registers.
//
// Every function works on one image; callers spread images over threads. Results do not depend on
// the calling thread or on how images are grouped, only on the kernel set in use.
#ifndef TANGENT_CCONVOLUTION_H
#define TANGENT_CCONVOLUTION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Kernel sets, widest first.
enum tangent_conv_isa {
    TANGENT_CONV_PORTABLE = 1, ///< 4-lane generic vectors, no target-specific instructions.
    TANGENT_CONV_AVX2 = 2,     ///< 8-lane AVX2 with FMA.
    TANGENT_CONV_AVX512 = 3,   ///< 16-lane AVX-512F.
};

/// The widest kernel set this processor supports.
int tangent_conv_supported_isa(void);
/// The kernel set in use (the widest supported unless changed by tangent_conv_select_isa).
int tangent_conv_active_isa(void);
/// Selects a kernel set no wider than the supported one (wider requests are clamped); returns the
/// set now in use. Not thread-safe: call it only while no convolution runs (tests do, to check every set).
int tangent_conv_select_isa(int isa);
/// Vector lanes of the active kernel set (output channels per filter block).
int tangent_conv_lanes(void);

/// Floats needed for packed filters of `outChannels` x `inChannels` x 3 x 3 (output channels rounded
/// up to whole vector blocks).
size_t tangent_conv3x3_packed_size(int inChannels, int outChannels);
/// Packs filters `weight` [outChannels][inChannels][3][3] for the active kernel set. With `transpose`
/// nonzero it packs the filters of the input gradient instead: in and out channels swapped and each
/// 3x3 window rotated by 180 degrees (then `packed` serves a convolution from outChannels to inChannels).
void tangent_conv3x3_pack(const float *weight, int outChannels, int inChannels, int transpose, float *packed);

/// Floats of scratch space one call of the forward kernel or the weight-gradient kernel needs.
size_t tangent_conv3x3_scratch_size(int inChannels, int outChannels, int height, int width);

/// out[o][y][x] = act(bias[o] + sum_{c,i,j} w[o][c][i][j] * x[c][y+i-1][x+j-1]) for one image
/// x [inChannels][height][width]; `packed` from tangent_conv3x3_pack for these channel counts,
/// `bias` may be NULL, act is ReLU when `relu` is nonzero. `out` [outChannels][height][width] is overwritten.
void tangent_conv3x3_forward(const float *x, int inChannels, int height, int width, const float *packed,
                             int outChannels, const float *bias, int relu, float *out, float *scratch);

/// dw[o][c][i][j] += sum_{y,x} dy[o][y][x] * x[c][y+i-1][x+j-1] for one image (x zero outside the
/// image); dw [outChannels][inChannels][3][3] is accumulated into, in a fixed order.
void tangent_conv3x3_weight_gradient(const float *x, const float *dy, int inChannels, int height, int width,
                                     int outChannels, float *dw, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
