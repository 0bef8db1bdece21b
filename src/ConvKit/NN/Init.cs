using System.Numerics.Tensors;
using ConvKit.Backends;

namespace ConvKit.NN;

/// <summary>Which variance Kaiming initialisation preserves: the forward pass's (fan in) or the backward pass's (fan out).</summary>
public enum FanMode
{
    /// <summary>Scale by the inputs per output unit: preserves the variance of the activations.</summary>
    FanIn,
    /// <summary>Scale by the outputs per input unit: preserves the variance of the gradients.</summary>
    FanOut,
}

/// <summary>The activations <see cref="Init.CalculateGain"/> knows, as in torch.nn.init.calculate_gain.</summary>
public enum Nonlinearity
{
    /// <summary>No activation: gain 1.</summary>
    Linear,
    /// <summary>A 1-D convolution with no activation: gain 1.</summary>
    Conv1d,
    /// <summary>A 2-D convolution with no activation: gain 1.</summary>
    Conv2d,
    /// <summary>A 3-D convolution with no activation: gain 1.</summary>
    Conv3d,
    /// <summary>A 1-D transposed convolution with no activation: gain 1.</summary>
    ConvTranspose1d,
    /// <summary>A 2-D transposed convolution with no activation: gain 1.</summary>
    ConvTranspose2d,
    /// <summary>A 3-D transposed convolution with no activation: gain 1.</summary>
    ConvTranspose3d,
    /// <summary>Sigmoid: gain 1.</summary>
    Sigmoid,
    /// <summary>Tanh: gain 5/3.</summary>
    Tanh,
    /// <summary>ReLU: gain √2.</summary>
    Relu,
    /// <summary>Leaky ReLU with negative slope a: gain √(2 / (1 + a²)).</summary>
    LeakyRelu,
    /// <summary>SELU: gain 3/4.</summary>
    Selu,
}

/// <summary>
/// Weight initialisers mirroring torch.nn.init. Each fills its tensor in place (outside the graph, so it works
/// on parameters) and returns it. Pass a seeded <see cref="Random"/> for reproducible values; without one,
/// <see cref="Generator.Current"/> is used (Random.Shared unless a <see cref="Generator.Use"/> scope is active).
/// </summary>
public static class Init
{
    static readonly AsyncLocal<bool> skipping = new();

    /// <summary>
    /// Until the returned scope is disposed, the random initialisers leave their tensors as allocated and draw nothing:
    /// for building a model only to read its shapes and parameter counts (<c>convkit summary</c>), where drawing
    /// VGG-16's 138M values would take almost all of the time. The skipped values are not valid weights.
    /// </summary>
    public static IDisposable Skip()
    {
        var scope = new SkipScope(skipping.Value);
        skipping.Value = true;
        return scope;
    }

    sealed class SkipScope(bool wasSkipping) : IDisposable
    {
        public void Dispose() => skipping.Value = wasSkipping;
    }

    /// <summary>Values drawn uniformly from [low, high).</summary>
    public static Tensor Uniform(Tensor tensor, float low = 0, float high = 1, Random? random = null)
    {
        if (!(low <= high)) throw new ArgumentException($"Init.Uniform: low ({low}) must not exceed high ({high}).");
        var generator = random ?? Generator.Current;
        float range = high - low;
        return Fill(tensor, chunk =>
        {
            for (int i = 0; i < chunk.Length; i++) chunk[i] = generator.NextSingle();
            TensorPrimitives.Multiply(chunk, range, chunk);
            TensorPrimitives.Add(chunk, low, chunk);
        });
    }

    /// <summary>Values drawn from the normal distribution N(mean, std²).</summary>
    public static Tensor Normal(Tensor tensor, float mean = 0, float std = 1, Random? random = null)
    {
        if (!(std >= 0)) throw new ArgumentException($"Init.Normal: std must be non-negative, got {std}.");
        var generator = random ?? Generator.Current;
        return Fill(tensor, chunk =>
        {
            Tensor.DrawNormal(chunk, generator);
            TensorPrimitives.Multiply(chunk, std, chunk);
            TensorPrimitives.Add(chunk, mean, chunk);
        });
    }

    /// <summary>Every value set to <paramref name="value"/>.</summary>
    public static Tensor Constant(Tensor tensor, float value)
    {
        tensor.Backend.Fill(tensor.Storage, value);
        tensor.Storage.BumpVersion();
        return tensor;
    }

    /// <summary>Every value set to 0.</summary>
    public static Tensor Zeros(Tensor tensor) => Constant(tensor, 0);

    /// <summary>Every value set to 1.</summary>
    public static Tensor Ones(Tensor tensor) => Constant(tensor, 1);

    /// <summary>
    /// He initialisation, uniform: U(−b, b) with b = gain·√(3 / fan), gain = <see cref="CalculateGain"/>(nonlinearity, a).
    /// <paramref name="a"/> is the negative slope of a leaky ReLU (√5 gives PyTorch's default for Linear and Conv layers).
    /// </summary>
    public static Tensor KaimingUniform(Tensor tensor, float a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Random? random = null)
    {
        if (tensor.Numel == 0) return tensor;
        float bound = MathF.Sqrt(3f) * KaimingStd(tensor, a, mode, nonlinearity);
        return Uniform(tensor, -bound, bound, random);
    }

    /// <summary>He initialisation, normal: N(0, std²) with std = gain / √fan.</summary>
    public static Tensor KaimingNormal(Tensor tensor, float a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Random? random = null)
    {
        if (tensor.Numel == 0) return tensor;
        return Normal(tensor, 0, KaimingStd(tensor, a, mode, nonlinearity), random);
    }

    /// <summary>Glorot initialisation, uniform: U(−b, b) with b = gain·√(6 / (fan_in + fan_out)).</summary>
    public static Tensor XavierUniform(Tensor tensor, float gain = 1, Random? random = null)
    {
        if (tensor.Numel == 0) return tensor;
        float bound = MathF.Sqrt(3f) * XavierStd(tensor, gain);
        return Uniform(tensor, -bound, bound, random);
    }

    /// <summary>Glorot initialisation, normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Tensor tensor, float gain = 1, Random? random = null)
    {
        if (tensor.Numel == 0) return tensor;
        return Normal(tensor, 0, XavierStd(tensor, gain), random);
    }

    /// <summary>
    /// PyTorch's default initialisation of Linear and Conv layers (their reset_parameters): the weight from
    /// <see cref="KaimingUniform"/> with a = √5, which is U(−1/√fan_in, 1/√fan_in), and the bias from the same range.
    /// </summary>
    public static void LayerDefault(Tensor weight, Tensor? bias, Random? random = null)
    {
        KaimingUniform(weight, a: MathF.Sqrt(5f), random: random);
        if (bias == null) return;
        int fanIn = FanInAndFanOut(weight).FanIn;
        float bound = fanIn > 0 ? 1f / MathF.Sqrt(fanIn) : 0;
        Uniform(bias, -bound, bound, random);
    }

    /// <summary>
    /// The recommended gain for an activation: 1 for linear, convolution and sigmoid, 5/3 for tanh, √2 for ReLU,
    /// √(2 / (1 + slope²)) for a leaky ReLU (<paramref name="param"/> is the slope, 0.01 by default), 3/4 for SELU.
    /// </summary>
    public static float CalculateGain(Nonlinearity nonlinearity, float? param = null) => nonlinearity switch
    {
        Nonlinearity.Tanh => 5f / 3f,
        Nonlinearity.Relu => MathF.Sqrt(2f),
        Nonlinearity.LeakyRelu => MathF.Sqrt(2f / (1f + MathF.Pow(param ?? 0.01f, 2))),
        Nonlinearity.Selu => 0.75f,
        _ when Enum.IsDefined(nonlinearity) => 1f,
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, "Init.CalculateGain: unknown nonlinearity."),
    };

    /// <summary>
    /// PyTorch's fans of a weight (out, in, k...): fan_in = in·∏k and fan_out = out·∏k, so a Linear weight
    /// (out, in) has fans (in, out) and a Conv2d weight (out, in, kH, kW) has fan_in = in·kH·kW.
    /// </summary>
    public static (int FanIn, int FanOut) FanInAndFanOut(Tensor tensor)
    {
        if (tensor.Rank < 2)
            throw new ArgumentException($"Init.FanInAndFanOut: fans need a tensor of at least 2 dimensions, got shape {Shapes.Format(tensor.Shape)}.");
        int receptiveField = 1;
        for (int d = 2; d < tensor.Rank; d++) receptiveField *= tensor.Shape[d];
        return (tensor.Shape[1] * receptiveField, tensor.Shape[0] * receptiveField);
    }

    static float KaimingStd(Tensor tensor, float a, FanMode mode, Nonlinearity nonlinearity)
    {
        var (fanIn, fanOut) = FanInAndFanOut(tensor);
        return CalculateGain(nonlinearity, a) / MathF.Sqrt(mode == FanMode.FanIn ? fanIn : fanOut);
    }

    static float XavierStd(Tensor tensor, float gain)
    {
        var (fanIn, fanOut) = FanInAndFanOut(tensor);
        return gain * MathF.Sqrt(2f / (fanIn + fanOut));
    }

    // Values are drawn a chunk at a time straight into the tensor's storage: a temporary of the weight's size (VGG's
    // 102M-value linear layer: 411 MB each) would make building a model need several times its parameters' memory.
    // The chunk length is even so Box–Muller pairs never straddle chunks: the values are those Tensor.Rand/Randn
    // would draw from the same generator.
    const int ChunkLength = 1 << 16;

    static Tensor Fill(Tensor tensor, Action<Span<float>> draw)
    {
        if (skipping.Value) return tensor;
        int total = tensor.Numel;
        var chunk = new float[Math.Min(ChunkLength, total)];
        for (int offset = 0; offset < total; offset += chunk.Length)
        {
            int count = Math.Min(chunk.Length, total - offset);
            var values = chunk.AsSpan(0, count);
            draw(values);
            var piece = tensor.Backend.FromArray(values);
            tensor.Backend.CopyBlocks(piece, tensor.Storage, new BlockCopy(1, 1, count, 0, count, 0, offset, total, 0));
        }
        tensor.Storage.BumpVersion();
        return tensor;
    }
}
