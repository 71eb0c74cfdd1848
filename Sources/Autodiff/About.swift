// Autodiff: the Tensor type, reverse mode (pullbacks recorded in a graph held by the tensors themselves,
// walked iteratively) and forward mode (tangents carried beside values). One file per primitive family,
// each op with its forward, VJP and JVP side by side.
