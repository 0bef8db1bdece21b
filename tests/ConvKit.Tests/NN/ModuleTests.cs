using ConvKit.NN;

namespace ConvKit.Tests.NN;

public class ModuleTests
{
    sealed class Affine : Module
    {
        public readonly Tensor Weight, Bias, Calls;
        public Affine(int features)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(features));
            Bias = RegisterParameter("bias", Tensor.Zeros(features));
            Calls = RegisterBuffer("calls", Tensor.Zeros(1));
        }
        protected override Tensor ForwardCore(Tensor input) => input * Weight + Bias;
    }

    sealed class Block : Module
    {
        public readonly Affine First;
        public readonly Sequential Layers;
        public Block()
        {
            First = RegisterModule("first", new Affine(2));
            Layers = RegisterModule("layers", new Sequential(new Affine(2), new Affine(2)));
        }
        protected override Tensor ForwardCore(Tensor input) => Layers.Forward(First.Forward(input));
    }

    [Fact]
    public void StateDictUsesDottedPyTorchNamesInRegistrationOrder()
    {
        var block = new Block();
        Assert.Equal(
            ["first.weight", "first.bias", "first.calls", "layers.0.weight", "layers.0.bias", "layers.0.calls",
             "layers.1.weight", "layers.1.bias", "layers.1.calls"],
            block.StateDict().Keys);
        Assert.Equal(6, block.Parameters().Count());
        Assert.Equal(12, block.ParameterCount());
        Assert.All(block.Parameters(), p => Assert.True(p.RequiresGrad));
    }

    [Fact]
    public void LoadStateDictCopiesValuesIntoTheSameTensors()
    {
        var source = new Block();
        using (Tensor.NoGrad()) source.First.Weight.CopyFrom(Tensor.FromArray([3f, 4f]));
        var target = new Block();
        var weight = target.First.Weight;
        var result = target.LoadStateDict(source.StateDict());
        Assert.Empty(result.MissingKeys);
        Assert.Same(weight, target.First.Weight);
        Assert.Equal([3f, 4f], weight.ToArray());
        Assert.Equal([3f, 4f], target.Forward(Tensor.Ones(2)).ToArray());
    }

    [Fact]
    public void StrictLoadingReportsMissingAndUnexpectedKeys()
    {
        var state = new Dictionary<string, Tensor>(new Block().StateDict());
        state.Remove("layers.1.bias");
        state["extra.weight"] = Tensor.Ones(2);
        var error = Assert.Throws<ArgumentException>(() => new Block().LoadStateDict(state));
        Assert.Contains("layers.1.bias", error.Message);
        Assert.Contains("extra.weight", error.Message);

        var result = new Block().LoadStateDict(state, strict: false);
        Assert.Equal(["layers.1.bias"], result.MissingKeys);
        Assert.Equal(["extra.weight"], result.UnexpectedKeys);
    }

    [Fact]
    public void ShapeMismatchNamesTheEntryAndBothShapes()
    {
        var state = new Dictionary<string, Tensor>(new Block().StateDict()) { ["first.weight"] = Tensor.Ones(3) };
        var error = Assert.Throws<ArgumentException>(() => new Block().LoadStateDict(state, strict: false));
        Assert.Contains("first.weight", error.Message);
        Assert.Contains("[3]", error.Message);
        Assert.Contains("[2]", error.Message);
    }

    [Fact]
    public void TrainAndEvalReachEveryDescendant()
    {
        var block = new Block();
        block.Eval();
        Assert.All(block.NamedModules(), m => Assert.False(m.Module.Training));
        block.Train();
        Assert.All(block.NamedModules(), m => Assert.True(m.Module.Training));
    }

    [Fact]
    public void GradientsReachParametersAndZeroGradClearsThem()
    {
        var block = new Block();
        block.Forward(Tensor.Ones(2)).Sum().Backward();
        Assert.All(block.Parameters(), p => Assert.NotNull(p.Grad));
        block.ZeroGrad();
        Assert.All(block.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void ToStringOutlinesTheTree()
    {
        var text = new Block().ToString();
        Assert.Contains("(first): Affine", text);
        Assert.Contains("(layers): Sequential", text);
        Assert.Contains("(0): Affine", text);
    }

    [Fact]
    public void ObserversSeeEveryForwardChildrenFirstUntilDisposed()
    {
        var block = new Block();
        var seen = new List<string>();
        using (Module.ObserveForward((module, input, output) => seen.Add($"{module.GetType().Name}:{Shapes.Format(output.Shape)}")))
            block.Forward(Tensor.Ones(2));
        Assert.Equal(["Affine:[2]", "Affine:[2]", "Affine:[2]", "Sequential:[2]", "Block:[2]"], seen);
        block.Forward(Tensor.Ones(2));
        Assert.Equal(5, seen.Count);
    }
}
