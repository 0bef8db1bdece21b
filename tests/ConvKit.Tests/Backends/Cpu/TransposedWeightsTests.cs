using ConvKit.Backends.Cpu;
using ConvKit.Ops;
using ConvKit.Optim;

namespace ConvKit.Tests.Backends.Cpu;

/// <summary>
/// The transposed weights a lone image's small-plane convolution keeps beside their storage follow every in-place
/// write of the weights (the indexer, CopyFrom, an optimiser step): each result equals, to the bit, the convolution
/// by a fresh copy of the weights as they are then, which has no transposed copy yet. The same holds for a
/// channels-last depthwise convolution's filters, kept in blocks of channels.
/// </summary>
public class TransposedWeightsTests
{
    [Fact]
    public void TurnedConvolutionFollowsInPlaceWritesOfItsWeights()
    {
        Assert.IsType<CpuBackend>(Tensor.Zeros([1]).Backend);
        // One image, 64 filters, a 7×7 output: the turned product, as in ResNet's last stage at batch 1.
        var x = Tensor.Randn([1, 32, 7, 7], seed: 1);
        var weight = Tensor.Randn([64, 32, 3, 3], seed: 2).RequireGrad();
        var bias = Tensor.Randn([64], seed: 3);
        float[] Convolve(Tensor w)
        {
            using (Tensor.NoGrad()) return F.Conv2d(x, w, bias, padding: 1).ToArray();
        }
        void AssertCurrent(string after) => Assert.True(Convolve(weight.Detach().Clone()).SequenceEqual(Convolve(weight)), $"after {after}");

        AssertCurrent("the first call");
        AssertCurrent("a second call, from the kept copy");
        weight[5, 3, 1, 2] = 40f;
        AssertCurrent("a write through the indexer");
        using (Tensor.NoGrad()) weight.CopyFrom(Tensor.Randn([64, 32, 3, 3], seed: 4));
        AssertCurrent("CopyFrom");
        F.Sum(F.Conv2d(x, weight, bias, padding: 1)).Backward();
        new SGD([weight], lr: 0.5).Step();
        AssertCurrent("an optimiser step");
    }

    [Fact]
    public void ChannelsLastDepthwiseFollowsInPlaceWritesOfItsFilters()
    {
        // 24 channels (a block and a half) at 7×7, 3×3 filters: the channels-last path on any machine.
        var x = Tensor.Randn([1, 24, 7, 7], seed: 1);
        var weight = Tensor.Randn([24, 1, 3, 3], seed: 2).RequireGrad();
        var bias = Tensor.Randn([24], seed: 3);
        float[] Convolve(Tensor w)
        {
            using (Tensor.NoGrad()) return F.Conv2d(x, w, bias, padding: 1, groups: 24).ToArray();
        }
        void AssertCurrent(string after) => Assert.True(Convolve(weight.Detach().Clone()).SequenceEqual(Convolve(weight)), $"after {after}");

        AssertCurrent("the first call");
        AssertCurrent("a second call, from the kept copy");
        weight[20, 0, 1, 2] = 40f;
        AssertCurrent("a write through the indexer");
        using (Tensor.NoGrad()) weight.CopyFrom(Tensor.Randn([24, 1, 3, 3], seed: 4));
        AssertCurrent("CopyFrom");
        F.Sum(F.Conv2d(x, weight, bias, padding: 1, groups: 24)).Backward();
        new SGD([weight], lr: 0.5).Step();
        AssertCurrent("an optimiser step");
    }
}
