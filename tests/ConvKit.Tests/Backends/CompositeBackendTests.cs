using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Optim;

namespace ConvKit.Tests.Backends;

/// <summary>
/// <see cref="CompositeBackend"/>: a backend that implements only the core (<see cref="MinimalBackend"/>) gets local
/// response norm, adaptive average pooling, label smoothing, the SGD and Adam variants, batch and layer norm, softmax,
/// clamping, powers, expansion and max pooling without argmax composed from its primitives, and they agree with the CPU
/// backend's fused kernels, forwards and backwards; a model trains on it without reading a value back to the host.
/// </summary>
public class CompositeBackendTests
{
    static readonly IBackend Minimal = MinimalBackend.Instance;

    /// <summary>
    /// Runs <paramref name="op"/> on <paramref name="inputs"/> (made on the CPU) on the CPU and on the minimal backend,
    /// and compares the outputs and the gradients of a weighted sum of them with respect to every input.
    /// </summary>
    static void AgreesWithTheCpu(string what, Func<Tensor[], Tensor> op, params Tensor[] inputs)
    {
        var onCpu = inputs.Select(t => t.Detach().RequireGrad()).ToArray();
        var onMinimal = inputs.Select(t => t.Detach().To(Minimal).RequireGrad()).ToArray();
        var expected = op(onCpu);
        var actual = op(onMinimal);
        Assert.Same(Minimal, actual.Backend);
        var weights = Tensor.Randn([.. expected.Shape], seed: 9);
        (expected * weights).Sum().Backward();
        (actual * weights.To(Minimal)).Sum().Backward();
        Close.All(expected.ToArray().Select(v => (double)v).ToArray(), actual.ToArray(), 1e-5, 1e-6, $"{what} values");
        for (int i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(onCpu[i].Grad == null, onMinimal[i].Grad == null); // an input the op does not use has none
            if (onCpu[i].Grad != null)
                Close.All(onCpu[i].Grad!.ToArray().Select(v => (double)v).ToArray(), onMinimal[i].Grad!.ToArray(), 1e-4, 1e-5, $"{what} gradient {i}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(9)]
    public void LocalResponseNormIsComposed(int size) =>
        AgreesWithTheCpu($"LRN size {size}", t => F.LocalResponseNorm(t[0], size, alpha: 0.5f, beta: 0.75f, k: 2f),
            Tensor.Randn([2, 6, 3, 4], seed: size));

    [Theory]
    [InlineData(7, 5, 3, 2)]
    [InlineData(5, 5, 4, 4)] // overlapping windows
    [InlineData(6, 8, 3, 4)] // windows that tile the input
    [InlineData(4, 4, 1, 1)] // global average
    public void AdaptiveAveragePoolingIsComposed(int height, int width, int outHeight, int outWidth) =>
        AgreesWithTheCpu($"AdaptiveAvgPool2d {height}x{width} to {outHeight}x{outWidth}",
            t => F.AdaptiveAvgPool2d(t[0], new Size2(outHeight, outWidth)), Tensor.Randn([2, 3, height, width], seed: height * width));

    [Theory]
    [InlineData(0f, false)]
    [InlineData(0.1f, false)]
    [InlineData(0.3f, true)]
    public void LabelSmoothingIsComposed(float smoothing, bool weighted)
    {
        var targets = Tensor.FromArray([0f, 3f, -100f, 2f, 1f, 3f]); // one ignored position
        var weight = weighted ? Tensor.FromArray([0.5f, 2f, 1f, 0.25f]) : null;
        AgreesWithTheCpu($"CrossEntropy ε={smoothing}", t => F.CrossEntropy(t[0], targets.To(t[0].Backend), weight?.To(t[0].Backend),
            labelSmoothing: smoothing), Tensor.Randn([6, 4], seed: 3));
        // Spatial targets (N, C, H, W), a sum instead of a mean.
        var spatial = Tensor.FromArray([0f, 1f, 2f, 1f, 2f, 0f, 0f, 2f], 2, 2, 2);
        AgreesWithTheCpu($"spatial CrossEntropy ε={smoothing}", t => F.CrossEntropy(t[0], spatial.To(t[0].Backend),
            reduction: Reduction.Sum, labelSmoothing: smoothing), Tensor.Randn([2, 3, 2, 2], seed: 4));
    }

    public static TheoryData<string, Func<Tensor[], Tensor>> ElementwiseOps() => new()
    {
        { "Softmax", t => F.Softmax(t[0], 1) },
        { "LogSoftmax", t => F.LogSoftmax(t[0], 0) },
        { "Clamp", t => F.Clamp(t[0], -0.5f, 0.7f) },
        { "Pow", t => t[0].Abs().Pow(2.5f) },
        { "Expand", t => t[0].Narrow(1, 0, 1).Expand(4, 3, 5) },
        { "LayerNorm", t => F.LayerNorm(t[0], [3, 5], t[1].Reshape(3, 5), t[1].Reshape(3, 5) * 0.5f) },
        { "LayerNorm without affine", t => F.LayerNorm(t[0], [5]) },
        { "BatchNorm", t => F.BatchNorm(t[0], null, null, t[1].Narrow(0, 0, 3), t[1].Narrow(0, 3, 3), training: true) },
        { "BatchNorm evaluation", t => F.BatchNorm(t[0], t[1].Narrow(0, 0, 3).Detach(), t[1].Narrow(0, 3, 3).Detach().Abs(),
            t[1].Narrow(0, 6, 3), null, training: false) },
    };

    [Theory]
    [MemberData(nameof(ElementwiseOps))]
    public void NormalisationSoftmaxAndElementwiseOpsAreComposed(string name, Func<Tensor[], Tensor> op) =>
        AgreesWithTheCpu(name, op, Tensor.Randn([4, 3, 5], seed: name.Length), Tensor.Randn([15], seed: 2));

    [Fact]
    public void BatchNormRunningStatisticsAreComposed()
    {
        float[] Run(IBackend backend)
        {
            var (mean, variance) = (Tensor.Zeros(3).To(backend), Tensor.Ones(3).To(backend));
            F.BatchNorm(Tensor.Randn([4, 3, 2, 2], seed: 8).To(backend), mean, variance, null, null, training: true, momentum: 0.3f);
            return [.. mean.ToArray(), .. variance.ToArray()];
        }
        Close.All(Run(CpuBackend.Instance).Select(v => (double)v).ToArray(), Run(Minimal), 1e-5, 1e-6, "running statistics");
    }

    [Fact]
    public void MaxPoolingWithoutGradientIsComposed()
    {
        var x = Tensor.Randn([2, 3, 7, 6], seed: 4);
        using var _ = Tensor.NoGrad(); // the kernel without an argmax
        Close.All(F.MaxPool2d(x, 3, 2, 1).ToArray().Select(v => (double)v).ToArray(),
            F.MaxPool2d(x.To(Minimal), 3, 2, 1).ToArray(), 0, 0, "max pooling");
    }

    public static TheoryData<string, Func<IEnumerable<Tensor>, Optimizer>> Optimizers() => new()
    {
        { "SGD", p => new SGD(p, lr: 0.1) },
        { "SGD momentum, dampening, decay", p => new SGD(p, lr: 0.1, momentum: 0.9, dampening: 0.2, weightDecay: 0.01) },
        { "SGD Nesterov, maximize", p => new SGD(p, lr: 0.05, momentum: 0.8, nesterov: true, maximize: true) },
        { "Adam", p => new Adam(p, lr: 0.01, weightDecay: 0.02) },
        { "Adam AMSGrad, maximize", p => new Adam(p, lr: 0.01, amsgrad: true, maximize: true) },
        { "AdamW", p => new AdamW(p, lr: 0.01, weightDecay: 0.1) },
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void OptimiserStepsAreComposed(string name, Func<IEnumerable<Tensor>, Optimizer> make)
    {
        float[] Run(IBackend backend)
        {
            var parameter = Tensor.Randn([3, 5], seed: 1).To(backend).RequireGrad();
            var optimizer = make([parameter]);
            for (int step = 0; step < 4; step++)
            {
                optimizer.ZeroGrad();
                // A gradient that changes with the parameter and the step, so momentum and moments see different values.
                (parameter * parameter * Tensor.Randn([3, 5], seed: 10 + step).To(backend)).Sum().Backward();
                optimizer.Step();
            }
            Assert.Same(backend, parameter.Backend);
            return parameter.ToArray();
        }
        Close.All(Run(CpuBackend.Instance).Select(v => (double)v).ToArray(), Run(Minimal), 1e-5, 1e-6, name);
    }

    [Fact]
    public void AModelTrainsOnTheMinimalBackendWithoutReadingValuesBack()
    {
        var random = new Random(5);
        var model = new Sequential(
            new Conv2d(2, 4, 3, padding: 1, bias: false, random: random),
            new BatchNorm2d(4, momentum: null), // the cumulative average: 1/count on the backend
            new ReLU(),
            new LocalResponseNorm(3),
            new AdaptiveAvgPool2d(2),
            new Flatten(),
            new Linear(16, 3, random: random)).To(Minimal);
        var x = Tensor.Randn([4, 2, 6, 6], seed: 6).To(Minimal);
        var labels = Tensor.FromArray([0f, 2f, 1f, 2f]).To(Minimal);
        var optimizer = new AdamW(model.Parameters(), lr: 0.05);
        var losses = new List<Tensor>();
        int readsBefore = MinimalBackend.HostReads;
        for (int step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), labels, labelSmoothing: 0.1f);
            loss.Backward();
            optimizer.Step();
            losses.Add(loss.Detach());
        }
        Assert.Equal(0, MinimalBackend.HostReads - readsBefore);
        Assert.True(losses[^1].Item() < losses[0].Item(), "the loss should fall, or the steps did not train");
    }
}
