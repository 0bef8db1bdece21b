using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN;

/// <summary>The residual (Add) and inception/U-Net (Concat) joins: values, gradients, state-dict names.</summary>
public class JoinTests
{
    const double Rtol = 1e-5, Atol = 1e-6;

    static double[] Doubles(Tensor t) => t.ToArray().Select(v => (double)v).ToArray();

    [Fact]
    public void AddSumsItsBranchesAndBackPropagatesThroughEach()
    {
        var block = new Linear(3, 3, random: new Random(1));
        var residual = new Add(new Identity(), block);
        var x = Tensor.Randn([4, 3], seed: 2).RequireGrad();
        var y = residual.Forward(x);
        y.Square().Sum().Backward();
        var gradX = x.Grad!.ToArray();
        var gradW = block.Weight.Grad!.ToArray();

        // The same computation spelled out.
        var x2 = x.Detach().RequireGrad();
        var w2 = block.Weight.Detach().RequireGrad();
        var expected = x2 + F.Linear(x2, w2, block.Bias!.Detach());
        expected.Square().Sum().Backward();
        Close.All(Doubles(expected), y.ToArray(), Rtol, Atol, "Add output");
        Close.All(Doubles(x2.Grad!), gradX, Rtol, Atol, "Add input gradient");
        Close.All(Doubles(w2.Grad!), gradW, Rtol, Atol, "Add weight gradient");
    }

    [Fact]
    public void AddNamesBranchesByPosition()
    {
        var model = new Sequential(new Linear(2, 3), new Add(new Identity(), new Sequential(new Linear(3, 3), new Linear(3, 3))));
        Assert.Equal(["0.weight", "0.bias", "1.1.0.weight", "1.1.0.bias", "1.1.1.weight", "1.1.1.bias"], model.StateDict().Keys);
        Assert.Equal(2, ((Add)model[1]).Branches.Count);
    }

    [Fact]
    public void AddRejectsBranchesOfDifferentShapes()
    {
        var join = new Add(new Linear(3, 2), new Linear(3, 4));
        var error = Assert.Throws<ArgumentException>(() => join.Forward(Tensor.Zeros(1, 3)));
        Assert.Contains("Add", error.Message);
        Assert.Contains("[1, 2]", error.Message);
        Assert.Contains("[1, 4]", error.Message);
    }

    [Fact]
    public void ConcatJoinsBranchOutputsAlongItsAxis()
    {
        var left = new Linear(3, 2, random: new Random(3));
        var right = new Linear(3, 4, random: new Random(4));
        var join = new Concat(1, left, new Identity(), right);
        var x = Tensor.Randn([5, 3], seed: 5).RequireGrad();
        var y = join.Forward(x);
        Assert.Equal([5, 9], y.Shape);
        var weight = Tensor.Randn([5, 9], seed: 6);
        (y * weight).Sum().Backward();

        var x2 = x.Detach().RequireGrad();
        var expected = Tensor.Concat([left.Forward(x2), x2, right.Forward(x2)], 1);
        Close.All(Doubles(expected), y.ToArray(), Rtol, Atol, "Concat output");
        var gradRight = right.Weight.Grad!.ToArray();
        right.ZeroGrad();
        (expected * weight).Sum().Backward();
        Close.All(Doubles(x2.Grad!), x.Grad!.ToArray(), Rtol, Atol, "Concat input gradient");
        Close.All(Doubles(right.Weight.Grad!), gradRight, Rtol, Atol, "Concat branch weight gradient");
    }

    [Fact]
    public void ConcatNamesBranchesByPositionAndDescribesItsAxis()
    {
        var join = new Concat(1, new Linear(3, 2), new Identity(), new Linear(3, 4, bias: false));
        Assert.Equal(["0.weight", "0.bias", "2.weight"], join.StateDict().Keys);
        Assert.StartsWith("Concat(dim=1)(\n  (0): Linear(3, 2, bias=true)\n  (1): Identity\n", join.ToString());
    }

    [Fact]
    public void JoinsNeedABranch()
    {
        Assert.Contains("Add", Assert.Throws<ArgumentException>(() => new Add()).Message);
        Assert.Contains("Concat", Assert.Throws<ArgumentException>(() => new Concat(1)).Message);
    }
}
