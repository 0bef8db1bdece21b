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
    /// output = activation((conv(input, weight) + bias) + residual), the residual shaped as the output: a residual block's
    /// Conv, Add and activation (ResNet's last convolution, the Add of the shortcut, the ReLU) as one op, with the values of
    /// the three. This default runs the three; a backend may add the residual while each block of output is in cache.
    /// </summary>
    void ConvForwardAdd(Storage input, Storage weight, Storage? bias, Storage residual, Storage output, in ConvGeometry geometry,
        ActivationOp? activation = null, float activationParameter = 0f) =>
        ConvThenAdd(this, input, weight, bias, residual, output, geometry, activation, activationParameter);

    /// <summary><see cref="ConvForwardAdd"/> as its three ops on <paramref name="backend"/>.</summary>
    internal static void ConvThenAdd(IBackend backend, Storage input, Storage weight, Storage? bias, Storage residual, Storage output,
        in ConvGeometry geometry, ActivationOp? activation, float activationParameter)
    {
        backend.ConvForward(input, weight, bias, output, geometry);
        int[] shape = [geometry.Batch, geometry.OutChannels, geometry.OutHeight, geometry.OutWidth];
        backend.Binary(BinaryOp.Add, output, shape, residual, shape, output, shape);
        if (activation is { } op) backend.Activation(op, activationParameter, output, output);
    }

    /// <summary>
    /// inputGrad (N, C_in, H, W) = convᵀ(outputGrad (N, C_out, H_out, W_out), weight) + bias (C_in, optional): the gradient
    /// of the convolution with respect to its input, and the forward pass of a transposed convolution (which adds a bias).
    /// </summary>
    void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry);

    /// <summary>weightGrad (C_out, C_in/groups, kH, kW) = Σ over batch and positions of outputGrad ⊗ input patches.</summary>
    void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry);
}
