using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Optim;

namespace ConvKit.Tests.Autograd;

// An op's backward reads the operands it was given; a write into their storage between the forward and the
// backward would make the gradient silently wrong, so Backward refuses it.
public class InPlaceVersionTests
{
    [Fact]
    public void AWriteThroughADetachedAliasBetweenForwardAndBackwardIsRefused()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        var w = Tensor.FromArray([4f, 5f, 6f]).RequireGrad();
        var y = (x * w).Sum();
        x.Detach().AddInPlace(1f);
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("Mul", error.Message);
        Assert.Contains("[3]", error.Message);
        Assert.Contains("modified by an in-place operation", error.Message);
        Assert.Contains("is at version 1; expected version 0", error.Message);
        Assert.Null(w.Grad);
    }

    [Fact]
    public void AWriteThroughTheStateDictBetweenForwardAndBackwardIsRefused()
    {
        var model = new Linear(3, 2, random: new Generator(1));
        var loss = model.Forward(Tensor.Ones(4, 3)).Sum();
        model.StateDict()["weight"].AddInPlace(1f);
        var error = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("Linear", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void AnOptimiserStepBetweenForwardAndBackwardIsRefused()
    {
        var model = new Linear(3, 2, random: new Generator(1));
        var optimizer = new SGD(model.Parameters(), lr: 0.1);
        var input = Tensor.Ones(4, 3);
        model.Forward(input).Sum().Backward();
        var loss = model.Forward(input).Sum();
        optimizer.Step();
        Assert.Throws<InvalidOperationException>(() => loss.Backward());
    }

    [Fact]
    public void AWriteAfterBackwardIsFine()
    {
        var model = new Linear(3, 2, random: new Generator(1));
        var optimizer = new Adam(model.Parameters());
        for (int step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            model.Forward(Tensor.Ones(4, 3)).Sum().Backward();
            optimizer.Step();
        }
    }

    [Fact]
    public void EveryInPlaceWriterCountsAVersion()
    {
        var model = new Linear(3, 2, random: new Generator(1));
        var weight = model.Weight;
        var versions = new List<int> { weight.Version };
        void Written() => versions.Add(weight.Version);

        using (Tensor.NoGrad()) weight[0, 0] = 1f;
        Written();
        weight.Detach().AddInPlace(Tensor.Ones(2, 3));
        Written();
        model.StateDict()["weight"].CopyFrom(Tensor.Zeros(2, 3));
        Written();
        F.Relu(weight.Detach(), inPlace: true);
        Written();
        Init.KaimingUniform(weight, random: new Generator(2));
        Written();
        model.LoadStateDict(new Linear(3, 2).StateDict());
        Written();
        weight.Grad = Tensor.Ones(2, 3);
        new SGD([weight], lr: 0.1).Step();
        Written();
        new Adam([weight]).Step();
        Written();
        Assert.Equal(Enumerable.Range(versions[0], versions.Count), versions);
        Assert.Equal(weight.Version, weight.Reshape(6).Version);
    }
}
