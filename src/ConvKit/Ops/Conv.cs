using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

// Convolution and transposed convolution.
//   Conv2d:          input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW), bias (C_out)
//                    → (N, C_out, H_out, W_out), H_out = ⌊(H + pad_top + pad_bottom − d(kH − 1) − 1)/s⌋ + 1
//   ConvTranspose2d: input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW), bias (C_out)
//                    → (N, C_out, H_out, W_out), H_out = (H − 1)s − 2p + d(kH − 1) + output_padding + 1
// A transposed convolution is the input-gradient of the convolution whose input has the transposed one's
// output shape, so both ops describe themselves by that convolution's geometry and share its three kernels:
// forward, data gradient and weight gradient.
public static partial class F
{
    /// <summary>
    /// 2-D cross-correlation, as torch.nn.functional.conv2d. <paramref name="padding"/> is a size per side,
    /// "valid" (none) or "same": output size ⌈input / stride⌉, padding total max((out − 1)s + d(k − 1) + 1 − in, 0)
    /// split with the extra row/column at the bottom/right. For stride 1 that is PyTorch's "same"; PyTorch rejects
    /// "same" with a stride, and ConvKit follows TensorFlow/Keras there.
    /// </summary>
    /// <param name="input">(N, C_in, H, W)</param>
    /// <param name="weight">(C_out, C_in/groups, kH, kW)</param>
    /// <param name="bias">(C_out), or null</param>
    /// <returns>(N, C_out, H_out, W_out)</returns>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, Size2? stride = null, Padding? padding = null,
        Size2? dilation = null, int groups = 1)
    {
        var geometry = ConvShapes.Conv2d("Conv2d", input.Dims, weight.Dims, bias?.Dims, stride ?? 1, padding ?? 0, dilation ?? 1, groups);
        var output = ConvForward("Conv2d", input, weight, bias, geometry, relu: false);
        return Node.Record(output, "Conv2d", [input, weight, bias], ConvInputs(input, weight, bias), g => ConvGradients(g, input, weight, bias, geometry),
            ("geometry", geometry));
    }

    /// <summary>
    /// Relu(Conv2d(...)) in one pass: each block of the convolution's output is rectified while it is still in
    /// cache (the Conv → Relu pairs of imported ONNX graphs run this way). Differentiable; an open
    /// <see cref="OpTrace"/> sees the two ops it stands for.
    /// </summary>
    public static Tensor Conv2dRelu(Tensor input, Tensor weight, Tensor? bias = null, Size2? stride = null, Padding? padding = null,
        Size2? dilation = null, int groups = 1)
    {
        if (OpTrace.IsActive) return Relu(Conv2d(input, weight, bias, stride, padding, dilation, groups));
        var geometry = ConvShapes.Conv2d("Conv2dRelu", input.Dims, weight.Dims, bias?.Dims, stride ?? 1, padding ?? 0, dilation ?? 1, groups);
        var output = ConvForward("Conv2dRelu", input, weight, bias, geometry, relu: true);
        // ReLU's gradient passes where its output is positive; the convolution's gradients follow from there.
        return Node.Record(output, "Conv2dRelu", ConvInputs(input, weight, bias), g =>
        {
            var passed = Tensor.Uninitialized(g.Dims, g.Backend);
            g.Backend.ActivationBackward(ActivationOp.Relu, 0f, output.Storage, output.Storage, g.Storage, passed.Storage);
            return ConvGradients(passed, input, weight, bias, geometry);
        });
    }

    static Tensor ConvForward(string op, Tensor input, Tensor weight, Tensor? bias, in ConvGeometry geometry, bool relu)
    {
        var backend = CheckBackends(op, input, weight, bias);
        var output = Tensor.Uninitialized([geometry.Batch, geometry.OutChannels, geometry.OutHeight, geometry.OutWidth], backend);
        backend.ConvForward(input.Storage, weight.Storage, bias?.Storage, output.Storage, geometry, relu);
        return output;
    }

    static Tensor[] ConvInputs(Tensor input, Tensor weight, Tensor? bias) => bias == null ? [input, weight] : [input, weight, bias];

    /// <summary>The gradients of a convolution's input, weight and bias (null where not required) given its output's gradient.</summary>
    static Tensor?[] ConvGradients(Tensor g, Tensor input, Tensor weight, Tensor? bias, in ConvGeometry geometry) =>
    [
        input.RequiresGrad ? ConvData(g, weight, null, geometry) : null,
        weight.RequiresGrad ? ConvWeight(input, g, geometry, weight.Dims) : null,
        bias?.RequiresGrad == true ? Sum(g, [0, 2, 3]) : null,
    ];

    /// <summary>
    /// 2-D transposed convolution (the adjoint of <see cref="Conv2d"/>, sometimes called deconvolution), as
    /// torch.nn.functional.conv_transpose2d: each input value scatters the kernel, scaled, into the output;
    /// <paramref name="padding"/> trims the output and <paramref name="outputPadding"/> (less than the stride or
    /// the dilation) adds rows/columns at the bottom/right.
    /// </summary>
    /// <param name="input">(N, C_in, H, W)</param>
    /// <param name="weight">(C_in, C_out/groups, kH, kW)</param>
    /// <param name="bias">(C_out), or null</param>
    /// <returns>(N, C_out, (H − 1)s − 2p + d(kH − 1) + outputPadding + 1, likewise for W)</returns>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, Size2? stride = null, Size2? padding = null,
        Size2? outputPadding = null, int groups = 1, Size2? dilation = null)
    {
        var geometry = ConvShapes.ConvTranspose2d("ConvTranspose2d", input.Dims, weight.Dims, bias?.Dims,
            stride ?? 1, padding ?? 0, outputPadding ?? 0, dilation ?? 1, groups);
        var backend = CheckBackends("ConvTranspose2d", input, weight, bias);
        var output = ConvData(input, weight, bias, geometry);
        // Output = convᵀ(input): the input's gradient is the convolution of the output's gradient, and the
        // weight's gradient is the convolution's weight gradient with the roles of input and gradient swapped.
        return Node.Record(output, "ConvTranspose2d", [input, weight, bias], ConvInputs(input, weight, bias), g =>
        {
            Tensor? inputGrad = null;
            if (input.RequiresGrad)
            {
                inputGrad = Tensor.Uninitialized(input.Dims, backend);
                backend.ConvForward(g.Storage, weight.Storage, null, inputGrad.Storage, geometry);
            }
            return
            [
                inputGrad,
                weight.RequiresGrad ? ConvWeight(g, input, geometry, weight.Dims) : null,
                bias?.RequiresGrad == true ? Sum(g, [0, 2, 3]) : null,
            ];
        }, ("geometry", geometry));
    }

    /// <summary>convᵀ(outputSide, weight) + bias: a tensor of the geometry's input shape. No graph recorded.</summary>
    static Tensor ConvData(Tensor outputSide, Tensor weight, Tensor? bias, in ConvGeometry g)
    {
        var result = Tensor.Uninitialized([g.Batch, g.InChannels, g.InHeight, g.InWidth], outputSide.Backend);
        outputSide.Backend.ConvBackwardData(outputSide.Storage, weight.Storage, bias?.Storage, result.Storage, g);
        return result;
    }

    /// <summary>The weight gradient of the geometry's convolution given its input and output gradient. No graph recorded.</summary>
    static Tensor ConvWeight(Tensor inputSide, Tensor outputGrad, in ConvGeometry g, int[] weightShape)
    {
        var result = Tensor.Uninitialized(weightShape, inputSide.Backend);
        inputSide.Backend.ConvBackwardWeight(inputSide.Storage, outputGrad.Storage, result.Storage, g);
        return result;
    }

    static IBackend CheckBackends(string op, Tensor input, Tensor weight, Tensor? bias)
    {
        var backend = SameBackend(input, weight, op);
        if (bias != null) SameBackend(input, bias, op);
        return backend;
    }
}
