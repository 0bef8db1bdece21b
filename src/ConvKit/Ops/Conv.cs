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
        var output = ConvForward("Conv2d", input, weight, bias, geometry);
        return Node.Record(output, "Conv2d", [input, weight, bias], ConvInputs(input, weight, bias), g => ConvGradients(g, input, weight, bias, geometry),
            ("geometry", geometry));
    }

    /// <summary>
    /// activation(Conv2d(...)) in one pass: each block of the convolution's output goes through the activation while it
    /// is still in cache (imported ONNX graphs run their Conv → Relu, Clip, HardSigmoid, HardSwish, Sigmoid and SiLU pairs
    /// this way); the values are those of the two ops. Differentiable: Relu, Relu6, Sigmoid and Tanh take their
    /// gradient from the fused output; the others need the convolution's own output, which the fused pass never keeps,
    /// so when a gradient will be recorded they run as the two ops. An open <see cref="OpTrace"/> sees the two ops.
    /// </summary>
    /// <param name="input">(N, C_in, H, W)</param>
    /// <param name="weight">(C_out, C_in/groups, kH, kW)</param>
    /// <param name="bias">(C_out), or null</param>
    /// <param name="activation">applied element-wise to the output; <see cref="ActivationOp.Silu"/> is x·sigmoid(x)</param>
    /// <param name="activationParameter">LeakyRelu's negative slope; ignored by the others</param>
    /// <returns>(N, C_out, H_out, W_out)</returns>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, ActivationOp activation, Size2? stride = null,
        Padding? padding = null, Size2? dilation = null, int groups = 1, float activationParameter = 0.01f)
    {
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Conv2d: unknown activation.");
        bool readsOutput = activation is ActivationOp.Relu or ActivationOp.Relu6 or ActivationOp.Sigmoid or ActivationOp.Tanh;
        bool recordsGradient = GradMode.IsEnabled && (input.RequiresGrad || weight.RequiresGrad || bias?.RequiresGrad == true);
        if (OpTrace.IsActive || (recordsGradient && !readsOutput))
            return Activate(Conv2d(input, weight, bias, stride, padding, dilation, groups), activation, activationParameter);
        string op = $"Conv2d{activation}";
        var geometry = ConvShapes.Conv2d(op, input.Dims, weight.Dims, bias?.Dims, stride ?? 1, padding ?? 0, dilation ?? 1, groups);
        var output = ConvForward(op, input, weight, bias, geometry, activation, activationParameter);
        // The activation's gradient, read from the output, passes on; the convolution's gradients follow from there.
        return Node.Record(output, op, ConvInputs(input, weight, bias), g =>
        {
            var passed = Tensor.Uninitialized(g.Dims, g.Backend);
            g.Backend.ActivationBackward(activation, activationParameter, output.Storage, output.Storage, g.Storage, passed.Storage);
            return ConvGradients(passed, input, weight, bias, geometry);
        });
    }

    /// <summary>
    /// activation((Conv2d(input, weight, bias) + residual)), the residual shaped as the convolution's output, in one pass:
    /// a residual block's last convolution, shortcut Add and ReLU as imported ONNX graphs run them, with the values of the
    /// three ops. With a gradient to record, an open <see cref="OpTrace"/>, or a residual of another shape (which the Add
    /// broadcasts), it runs as the three ops.
    /// </summary>
    internal static Tensor Conv2dAdd(Tensor input, Tensor weight, Tensor? bias, Tensor residual, ActivationOp? activation, Size2 stride,
        Padding padding, Size2 dilation, int groups, float activationParameter)
    {
        const string op = "Conv2dAdd";
        var geometry = ConvShapes.Conv2d(op, input.Dims, weight.Dims, bias?.Dims, stride, padding, dilation, groups);
        int[] shape = [geometry.Batch, geometry.OutChannels, geometry.OutHeight, geometry.OutWidth];
        bool recordsGradient = GradMode.IsEnabled && (input.RequiresGrad || weight.RequiresGrad || bias?.RequiresGrad == true || residual.RequiresGrad);
        if (OpTrace.IsActive || recordsGradient || !residual.Dims.SequenceEqual(shape))
        {
            var sum = Add(Conv2d(input, weight, bias, stride, padding, dilation, groups), residual);
            return activation is { } a ? Activate(sum, a, activationParameter) : sum;
        }
        var backend = CheckBackends(op, input, weight, bias);
        SameBackend(input, residual, op);
        var output = Tensor.Uninitialized(shape, backend);
        backend.ConvForwardAdd(input.Storage, weight.Storage, bias?.Storage, residual.Storage, output.Storage, geometry, activation, activationParameter);
        return output;
    }

    /// <summary>The activation as its own op (SiLU as Sigmoid and Mul).</summary>
    internal static Tensor Activate(Tensor x, ActivationOp activation, float parameter) => activation switch
    {
        ActivationOp.Relu => Relu(x),
        ActivationOp.LeakyRelu => LeakyRelu(x, parameter),
        ActivationOp.Relu6 => Relu6(x),
        ActivationOp.Tanh => Tanh(x),
        ActivationOp.Sigmoid => Sigmoid(x),
        ActivationOp.HardSigmoid => HardSigmoid(x),
        ActivationOp.HardSwish => HardSwish(x),
        ActivationOp.Silu => Mul(x, Sigmoid(x)),
        ActivationOp.Gelu => Gelu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };

    static Tensor ConvForward(string op, Tensor input, Tensor weight, Tensor? bias, in ConvGeometry geometry,
        ActivationOp? activation = null, float activationParameter = 0f)
    {
        var backend = CheckBackends(op, input, weight, bias);
        var output = Tensor.Uninitialized([geometry.Batch, geometry.OutChannels, geometry.OutHeight, geometry.OutWidth], backend);
        backend.ConvForward(input.Storage, weight.Storage, bias?.Storage, output.Storage, geometry, activation, activationParameter);
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
    /// 2-D transposed convolution (the adjoint of <see cref="Conv2d(Tensor, Tensor, Tensor?, Size2?, Padding?, Size2?, int)"/>, sometimes called deconvolution), as
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
