namespace ConvKit.Backends;

// Convolution kernels. The three passes of a 2-D convolution (cuDNN's names); transposed convolution is the
// data-gradient pass run forwards, so it needs no kernels of its own. Shapes are those of the geometry.
public partial interface IBackend
{
    /// <summary>
    /// output (N, C_out, H_out, W_out) = conv(input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW)) + bias (C_out, optional),
    /// then <paramref name="activation"/> when given, as <see cref="Activation"/> computes it with <paramref name="activationParameter"/>
    /// (fused: applied to each block of output while it is still in cache, so the values are those of the separate op).
    /// </summary>
    void ConvForward(Storage input, Storage weight, Storage? bias, Storage output, in ConvGeometry geometry,
        ActivationOp? activation = null, float activationParameter = 0f);

    /// <summary>
    /// inputGrad (N, C_in, H, W) = convᵀ(outputGrad (N, C_out, H_out, W_out), weight) + bias (C_in, optional): the gradient
    /// of the convolution with respect to its input, and the forward pass of a transposed convolution (which adds a bias).
    /// </summary>
    void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry);

    /// <summary>weightGrad (C_out, C_in/groups, kH, kW) = Σ over batch and positions of outputGrad ⊗ input patches.</summary>
    void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry);
}
