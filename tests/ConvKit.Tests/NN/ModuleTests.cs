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
    public void HooksSeeEveryForwardChildrenFirstUntilDisposed()
    {
        var block = new Block();
        var seen = new List<string>();
        using (block.RegisterForwardHookEverywhere((module, inputs, outputs) => seen.Add($"{module.GetType().Name}:{Shapes.Format(outputs.Main.Shape)}")))
            block.Forward(Tensor.Ones(2));
        Assert.Equal(["Affine:[2]", "Affine:[2]", "Affine:[2]", "Sequential:[2]", "Block:[2]"], seen);
        block.Forward(Tensor.Ones(2));
        Assert.Equal(5, seen.Count);
    }

    [Fact]
    public void AHookSeesOnlyItsOwnModuleAndStopsWhenDisposed()
    {
        var block = new Block();
        var first = block.NamedModules().Single(m => m.Name == "first").Module;
        var calls = new List<(Tensor Input, Tensor Output)>();
        var registration = first.RegisterForwardHook((module, inputs, outputs) =>
        {
            Assert.Same(first, module);
            calls.Add((inputs.Single(), outputs[TensorDict.OutputName]));
        });
        var x = Tensor.Ones(2);
        block.Forward(x);
        Assert.Single(calls);
        Assert.Same(x, calls[0].Input);
        registration.Dispose();
        block.Forward(x);
        Assert.Single(calls);
    }

    sealed class Pair : Module
    {
        protected override TensorDict ForwardCore(IReadOnlyList<Tensor> inputs) =>
            inputs.Count == 2 ? new TensorDict { { "sum", inputs[0] + inputs[1] }, { "difference", inputs[0] - inputs[1] } }
                : throw new ArgumentException($"Pair: takes 2 inputs, got {inputs.Count}.");
    }

    [Fact]
    public void AModuleTakesSeveralInputsAndGivesNamedOutputsThatHooksSee()
    {
        var pair = new Pair();
        TensorDict? seen = null;
        using var _ = pair.RegisterForwardHook((_, inputs, outputs) => { Assert.Equal(2, inputs.Count); seen = outputs; });
        var outputs = pair.ForwardOutputs(Tensor.FromArray([3f], 1), Tensor.FromArray([1f], 1));
        Assert.Equal(["sum", "difference"], outputs.Keys);
        Assert.Equal(4f, outputs["sum"].Item());
        Assert.Equal(2f, outputs["difference"].Item());
        Assert.Same(outputs, seen);
        Assert.Contains("does not take a single tensor", Assert.Throws<NotSupportedException>(() => pair.Forward(Tensor.Ones(1))).Message);
        Assert.Contains("takes 1 input, got 2", Assert.Throws<ArgumentException>(() => new Linear(1, 1).ForwardOutputs(Tensor.Ones(1, 1), Tensor.Ones(1, 1))).Message);
        Assert.Contains("no entry 'product'", Assert.Throws<KeyNotFoundException>(() => outputs["product"]).Message);
    }
}
