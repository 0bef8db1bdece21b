using ConvKit.Ops;
using System.Runtime.CompilerServices;

namespace ConvKit.Tests.Autograd;

// Backward frees the graph it walked (as PyTorch does), so a loss kept for logging pins no activations.
public class GraphLifetimeTests
{
    [Fact]
    public void ASecondBackwardThroughAFreedGraphIsRefused()
    {
        var x = Tensor.FromArray([1f, 2f]).RequireGrad();
        var y = (x * x).Sum();
        y.Backward();
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("second time", error.Message);
        Assert.Contains("retainGraph: true", error.Message);
        Assert.Equal([2f, 4f], x.Grad!.ToArray());
    }

    [Fact]
    public void RetainGraphAllowsAnotherBackward()
    {
        var x = Tensor.FromArray([1f, 2f]).RequireGrad();
        var y = (x * x).Sum();
        y.Backward(retainGraph: true);
        Assert.False(y.GradFn!.IsFreed);
        y.Backward();
        Assert.Equal([4f, 8f], x.Grad!.ToArray());
        Assert.True(y.GradFn.IsFreed);
    }

    [Fact]
    public void AGraphSharedWithAnEarlierBackwardIsRefused()
    {
        var x = Tensor.FromArray([1f, 2f]).RequireGrad();
        var shared = x.Exp();
        (shared * 2f).Sum().Backward();
        var error = Assert.Throws<InvalidOperationException>(() => (shared * 3f).Sum().Backward());
        Assert.Contains("Exp", error.Message);
    }

    [Fact]
    public void ALossKeptInAListDoesNotPinItsActivations()
    {
        var losses = new List<Tensor>();
        var activation = TrainStep(losses);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(activation.IsAlive);
        Assert.Single(losses);
    }

    [Fact]
    public void ATensorNoBackwardRuleReadsIsNotKeptUntilBackward()
    {
        // A sum's rule reads no values and ReLU's reads its output, so the sum feeding the ReLU (a residual block's
        // sum, a convolution's output) can go as soon as the ReLU has run, as in PyTorch.
        var x = Tensor.Randn([64, 64], seed: 2).RequireGrad();
        var (loss, sum) = SumThroughRelu(x);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(sum.IsAlive);
        loss.Backward();
        Assert.Equal(x.ToArray().Select(v => v > 0 ? 2f : 0f), x.Grad!.ToArray());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static (Tensor Loss, WeakReference Sum) SumThroughRelu(Tensor x)
    {
        var sum = x + x;
        return (F.Relu(sum).Sum(), new WeakReference(sum));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static WeakReference TrainStep(List<Tensor> losses)
    {
        var x = Tensor.Randn([64, 64], seed: 1).RequireGrad();
        var hidden = x.Exp();
        var loss = (hidden * hidden).Mean();
        loss.Backward();
        losses.Add(loss);
        return new WeakReference(hidden);
    }
}
