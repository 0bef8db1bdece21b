using ConvKit.Backends;
using ConvKit.Backends.Reference;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Optim;

namespace ConvKit.Tests.Backends;

/// <summary>
/// A small network trained for a few steps on each fast backend and on the reference backend, from the same seeds: the
/// losses and the weights after every step must agree. This holds the kernels to each other where they meet inside a
/// model (layers, losses, optimisers and the buffers that pass between them), which single-op tests do not reach.
/// </summary>
public class BackendParityTests
{
    /// <summary>Convolution, batch norm, ReLU, max pooling, a depthwise convolution, LRN, adaptive pooling and a linear head.</summary>
    static Sequential Network()
    {
        var random = new Random(7);
        return new Sequential(
            // No bias before batch norm: its gradient is zero up to rounding, which Adam would blow up to full-size steps.
            new Conv2d(3, 8, 3, padding: 1, bias: false, random: random),
            new BatchNorm2d(8),
            new ReLU(),
            new MaxPool2d(2),
            new Conv2d(8, 8, 3, padding: 1, groups: 8, random: random),
            new LocalResponseNorm(3, alpha: 0.1f),
            new AdaptiveAvgPool2d(2),
            new Flatten(),
            new Linear(32, 5, random: random));
    }

    /// <summary>The loss of each step and the parameters after the last one, trained on <paramref name="backend"/>.</summary>
    static (float[] Losses, float[][] Parameters) Train(IBackend backend, Func<IEnumerable<Tensor>, Optimizer> optimizer, int steps)
    {
        using var scope = Backend.Use(backend);
        var model = Network();
        var step = optimizer(model.Parameters());
        var x = Tensor.Randn([4, 3, 12, 12], seed: 1);
        var target = Tensor.FromArray([0f, 3, 1, 4]);
        var losses = new float[steps];
        for (int i = 0; i < steps; i++)
        {
            step.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), target, labelSmoothing: 0.1f);
            Assert.Same(backend, loss.Backend);
            loss.Backward();
            step.Step();
            losses[i] = loss.Item();
        }
        return (losses, model.Parameters().Select(p => p.ToArray()).ToArray());
    }

    public static IEnumerable<object[]> Cases() => TestBackends.EachFast(new TheoryData<string> { "SGD", "AdamW" });

    [Theory]
    [MemberData(nameof(Cases))]
    public void TrainingStepsAgreeWithTheReference(string backend, string optimizer)
    {
        Func<IEnumerable<Tensor>, Optimizer> make = optimizer == "SGD"
            ? p => new SGD(p, lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true)
            : p => new AdamW(p, lr: 0.01, weightDecay: 0.01);
        const int steps = 3;
        var expected = Train(ReferenceBackend.Instance, make, steps);
        var actual = Train(TestBackends.Named(backend), make, steps);
        // Float32 kernels against float64 sums, compounded over three steps.
        Close.All(expected.Losses.Select(v => (double)v).ToArray(), actual.Losses, 1e-4, 1e-5, $"{backend} {optimizer} losses");
        for (int i = 0; i < expected.Parameters.Length; i++)
            Close.All(expected.Parameters[i].Select(v => (double)v).ToArray(), actual.Parameters[i], 1e-3, 1e-5,
                $"{backend} {optimizer} parameter {i} after {steps} steps");
        Assert.True(expected.Losses[^1] < expected.Losses[0], "the loss should fall, or the steps did not train");
    }
}
