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
        var bias = Tensor.Randn([64], seed: 3);
        AssertFollowsInPlaceWrites([1, 32, 7, 7], [64, 32, 3, 3], [5, 3, 1, 2], (x, w) => F.Conv2d(x, w, bias, padding: 1));
    }

    [Fact]
    public void ChannelsLastDepthwiseFollowsInPlaceWritesOfItsFilters()
    {
        // 24 channels (a block and a half) at 7×7, 3×3 filters: the channels-last path on any machine.
        var bias = Tensor.Randn([24], seed: 3);
        AssertFollowsInPlaceWrites([1, 24, 7, 7], [24, 1, 3, 3], [20, 0, 1, 2], (x, w) => F.Conv2d(x, w, bias, padding: 1, groups: 24));
    }

    /// <summary>
    /// The convolution by the weights equals, to the bit, the one by a fresh copy of them: on the first call, on a second
    /// (from the kept copy), and after a write through the indexer at <paramref name="index"/>, CopyFrom and an SGD step.
    /// </summary>
    static void AssertFollowsInPlaceWrites(int[] inputShape, int[] weightShape, int[] index, Func<Tensor, Tensor, Tensor> convolve)
    {
        var x = Tensor.Randn(inputShape, seed: 1);
        var weight = Tensor.Randn(weightShape, seed: 2).RequireGrad();
        float[] Convolve(Tensor w)
        {
            using (Tensor.NoGrad()) return convolve(x, w).ToArray();
        }
        void AssertCurrent(string after) => Assert.True(Convolve(weight.Detach().Clone()).SequenceEqual(Convolve(weight)), $"after {after}");

        AssertCurrent("the first call");
        AssertCurrent("a second call, from the kept copy");
        weight[index] = 40f;
        AssertCurrent("a write through the indexer");
        using (Tensor.NoGrad()) weight.CopyFrom(Tensor.Randn(weightShape, seed: 4));
        AssertCurrent("CopyFrom");
        F.Sum(convolve(x, weight)).Backward();
        new SGD([weight], lr: 0.5).Step();
        AssertCurrent("an optimiser step");
    }
}
