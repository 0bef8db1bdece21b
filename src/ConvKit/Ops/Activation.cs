using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

// Activations (element-wise, any shape) and dropout.
public static partial class F
{
    /// <summary>max(x, 0); the gradient passes where x &gt; 0.</summary>
    public static Tensor Relu(Tensor x) => Activation(ActivationOp.Relu, "Relu", x, 0f);

    /// <summary>
    /// max(x, 0), overwriting x when <paramref name="inPlace"/> (as torch.nn.functional.relu(x, inplace=True)): for
    /// inference, where the input is not needed again. The overwrite is not recorded; it counts as a write to
    /// x's <see cref="Tensor.Version"/>, so a Backward through an op that needed x's old values is refused.
    /// </summary>
    public static Tensor Relu(Tensor x, bool inPlace)
    {
        if (!inPlace) return Relu(x);
        x.Backend.Activation(ActivationOp.Relu, 0f, x.Storage, x.Storage);
        x.Storage.BumpVersion();
        return x;
    }

    /// <summary>x where x &gt; 0, else negativeSlope·x.</summary>
    public static Tensor LeakyRelu(Tensor x, float negativeSlope = 0.01f) => Activation(ActivationOp.LeakyRelu, "LeakyRelu", x, negativeSlope);

    /// <summary>min(max(x, 0), 6); the gradient passes where 0 &lt; x &lt; 6.</summary>
    public static Tensor Relu6(Tensor x) => Activation(ActivationOp.Relu6, "Relu6", x, 0f);

    /// <summary>tanh x; gradient 1 − tanh² x.</summary>
    public static Tensor Tanh(Tensor x) => Activation(ActivationOp.Tanh, "Tanh", x, 0f);

    /// <summary>1 / (1 + e^−x); gradient σ(x)(1 − σ(x)).</summary>
    public static Tensor Sigmoid(Tensor x) => Activation(ActivationOp.Sigmoid, "Sigmoid", x, 0f);

    /// <summary>
    /// min(max(x + 3, 0), 6)/6, as torch.nn.functional.hardsigmoid (MobileNetV3's gate; ONNX HardSigmoid with
    /// alpha 1/6, beta ½); the gradient is 1/6 strictly between −3 and 3, else 0.
    /// </summary>
    public static Tensor HardSigmoid(Tensor x) => Activation(ActivationOp.HardSigmoid, "HardSigmoid", x, 0f);

    /// <summary>
    /// x·min(max(x + 3, 0), 6)/6, as torch.nn.functional.hardswish (MobileNetV3's activation; ONNX HardSwish); the
    /// gradient is 0 below −3, x/3 + ½ on [−3, 3] and 1 above, as PyTorch's.
    /// </summary>
    public static Tensor HardSwish(Tensor x) => Activation(ActivationOp.HardSwish, "HardSwish", x, 0f);

    /// <summary>
    /// GELU, x·Φ(x) with Φ the standard normal distribution function, as torch.nn.functional.gelu (ConvNeXt's and the
    /// vision transformers' activation). Exact by default, x·½(1 + erf(x/√2)), one fused pass with the gradient
    /// Φ(x) + x·φ(x); with <paramref name="tanhApproximation"/> PyTorch's approximate='tanh' form
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))), built from element-wise ops (its gradient is theirs).
    /// </summary>
    public static Tensor Gelu(Tensor x, bool tanhApproximation = false)
    {
        if (!tanhApproximation) return Activation(ActivationOp.Gelu, "Gelu", x, 0f);
        var inner = (x + x * x * x * 0.044715f) * MathF.Sqrt(2f / MathF.PI);
        return x * 0.5f * (Tanh(inner) + 1f);
    }

    static Tensor Activation(ActivationOp op, string name, Tensor x, float parameter)
    {
        var backend = x.Backend;
        var y = Tensor.Uninitialized(x.Dims, backend);
        backend.Activation(op, parameter, x.Storage, y.Storage);
        // ReLU's and ReLU6's gradients read the same from the output as from the input (y is inside (0, 6) exactly
        // where x is), so they keep y alone and the input (a convolution's or a sum's output) can go after the forward.
        var read = op is ActivationOp.Relu or ActivationOp.Relu6 ? y : x;
        return Node.Record(y, name, x, g =>
        {
            var gradInput = Tensor.Uninitialized(y.Dims, backend);
            backend.ActivationBackward(op, parameter, read.Storage, y.Storage, g.Storage, gradInput.Storage);
            return gradInput;
        }, op == ActivationOp.LeakyRelu ? [("negativeSlope", parameter)] : []);
    }

    /// <summary>
    /// Inverted dropout: in training each element is zeroed with probability <paramref name="p"/> and the
    /// survivors are scaled by 1/(1 − p), so the expected value is unchanged; the gradient uses the same mask.
    /// Out of training, or with p = 0, the input is returned as is; p = 1 gives zeros.
    /// </summary>
    /// <param name="x">any shape</param>
    /// <param name="random">source of the mask (element i is kept when its uniform draw is ≥ p, drawn in order as
    /// <see cref="Tensor.Rand(int[], Random)"/> does); <see cref="Generator.Current"/> when null</param>
    public static Tensor Dropout(Tensor x, float p, bool training, Random? random = null)
    {
        if (!(p >= 0f && p <= 1f))
            throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: probability p must be in [0, 1], got {p}.");
        if (!training || p == 0f) return x;
        if (p == 1f) return Mul(x, 0f);
        Tensor mask, y;
        using (Tensor.NoGrad())
        {
            mask = Ge(Tensor.Rand(x.Dims, random ?? Generator.Current), p) * (1f / (1f - p));
            y = x * mask;
        }
        return Node.Record(y, "Dropout", x, g => g * mask);
    }
}
