using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN;

/// <summary>Every layer states the shape its forward pass gives, and refuses what its forward pass refuses, in the same words.</summary>
public class ShapeInferenceTests
{
    public static TheoryData<string, Func<Module>, int[]> Layers() => new()
    {
        { "conv", () => new Conv2d(3, 8, kernelSize: 3, stride: 2, padding: 1), [2, 3, 9, 7] },
        { "conv same dilated", () => new Conv2d(4, 4, kernelSize: 3, padding: "same", dilation: 2, groups: 2), [1, 4, 6, 5] },
        { "transposed conv", () => new ConvTranspose2d(4, 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1), [2, 4, 3, 5] },
        { "max pool ceil", () => new MaxPool2d(3, stride: 2, ceilMode: true), [1, 2, 8, 7] },
        { "avg pool", () => new AvgPool2d(2), [1, 2, 6, 5] },
        { "adaptive pool", () => new AdaptiveAvgPool2d(3), [2, 2, 7, 5] },
        { "upsample", () => new Upsample(scaleFactor: 2), [1, 2, 3, 4] },
        { "linear", () => new Linear(6, 4), [3, 2, 6] },
        { "flatten", () => new Flatten(), [2, 3, 4, 5] },
        { "batch norm", () => new BatchNorm2d(3), [2, 3, 4, 4] },
        { "lrn", () => new LocalResponseNorm(3), [1, 5, 3, 3] },
        { "softmax", () => new Softmax(1), [2, 5] },
        { "log softmax", () => new LogSoftmax(-1), [2, 5] },
        { "dropout", () => new Dropout(0.3f), [2, 5] },
        { "activations", () => new Sequential(new ReLU(), new ReLU6(), new LeakyReLU(0.1f), new Sigmoid(), new Tanh(), new Identity()), [2, 3, 4] },
        { "add", () => new Add(new Identity(), new Conv2d(3, 3, kernelSize: 3, padding: 1)), [1, 3, 5, 5] },
        { "concat", () => new Concat(1, new Conv2d(3, 2, kernelSize: 1), new MaxPool2d(3, stride: 1, padding: 1)), [1, 3, 5, 5] },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void StatesTheShapeItsForwardPassGives(string name, Func<Module> create, int[] inputShape)
    {
        var layer = create().Eval();
        int[] forward;
        using (Tensor.NoGrad()) forward = layer.Forward(Tensor.Randn(inputShape, seed: 1)).Shape.ToArray();
        Assert.True(forward.SequenceEqual(layer.OutputShape(inputShape)), $"{name}: forward {Shapes.Format(forward)}, stated {Shapes.Format(layer.OutputShape(inputShape))}");
    }

    public static TheoryData<Func<Module>, int[]> Refusals() => new()
    {
        { () => new Conv2d(3, 8, kernelSize: 3), [1, 4, 9, 9] },
        { () => new Conv2d(3, 8, kernelSize: 5), [1, 3, 4, 9] },
        { () => new MaxPool2d(4), [1, 1, 3, 3] },
        { () => new Linear(6, 4), [2, 5] },
        { () => new BatchNorm2d(3), [2, 4, 5, 5] },
        { () => new Sequential(new Conv2d(1, 2, kernelSize: 3), new Flatten(), new Linear(10, 2)), [1, 1, 6, 6] },
        { () => new Add(new Identity(), new Conv2d(3, 3, kernelSize: 3)), [1, 3, 5, 5] },
        { () => new Concat(1, new Identity(), new Conv2d(3, 3, kernelSize: 3)), [1, 3, 5, 5] },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void RefusesWhatItsForwardPassRefusesInTheSameWords(Func<Module> create, int[] inputShape)
    {
        var layer = create().Eval();
        var stated = Assert.ThrowsAny<ArgumentException>(() => layer.OutputShape(inputShape));
        Exception ran;
        using (Tensor.NoGrad()) ran = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(Tensor.Zeros(inputShape)));
        Assert.Equal(ran.Message, stated.Message);
    }

    /// <summary>A module that only knows how to compute.</summary>
    sealed class Doubling : Module
    {
        protected override Tensor ForwardCore(Tensor input) => input * 2f;
    }

    [Fact]
    public void AModuleThatCannotStateItsShapeSaysSoAndTheSummaryRunsItInstead()
    {
        var model = new Sequential(new Linear(3, 4), new Doubling(), new Linear(4, 2));
        var error = Assert.Throws<ShapeInferenceNotSupportedException>(() => model.OutputShape(5, 3));
        Assert.Equal("Doubling", error.ModuleType);
        Assert.Contains("Doubling cannot state its output shape", error.Message);

        var summary = ModelSummary.Of(model, 5, 3);
        Assert.False(summary.Inferred);
        Assert.Equal(["0", "1", "2"], summary.Layers.Select(l => l.Name));
        Assert.Equal([5, 2], summary.OutputShape);
    }

    [Fact]
    public void TheSummaryIsStatedWithoutRunningAndRestoresTheModes()
    {
        var dropout = new Dropout(0.5f);
        var model = new Sequential(new Conv2d(3, 4, kernelSize: 3), new BatchNorm2d(4), new ReLU(), new Flatten(), new Linear(4 * 6 * 6, 2), dropout);
        model.Train();
        dropout.Eval();
        var before = model.NamedModules().Select(m => m.Module.Training).ToArray();

        int forwardCalls = 0;
        ModelSummary summary;
        using (model.RegisterForwardHookEverywhere((_, _, _) => forwardCalls++))
            summary = ModelSummary.Of(model, 2, 3, 8, 8);

        Assert.True(summary.Inferred);
        Assert.Equal(0, forwardCalls);
        Assert.Equal(before, model.NamedModules().Select(m => m.Module.Training));
        var run = ModelSummary.Run(model, [[2, 3, 8, 8]]);
        Assert.Equal(run.ToString(), summary.ToString());
    }

    [Fact]
    public void AHugeInputIsStatedWithoutAllocatingActivations()
    {
        var model = new Sequential(new Conv2d(3, 64, kernelSize: 3, padding: 1), new ReLU(), new MaxPool2d(2),
            new Conv2d(64, 128, kernelSize: 3, padding: 1), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(128, 10));
        ModelSummary.Of(model, 1, 3, 8, 8);   // JIT and first-use allocations out of the measurement

        long before = GC.GetAllocatedBytesForCurrentThread();
        var summary = ModelSummary.Of(model, 1, 3, 16384, 16384);   // its first activation alone would be 64 GiB
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal([1, 64, 16384, 16384], summary.Layers[0].OutputShape);
        Assert.Equal([1, 10], summary.OutputShape);
        Assert.True(allocated < 256 * 1024, $"the summary allocated {allocated:N0} bytes");
    }

    [Fact]
    public void FunctionalShapesMatchTheOps()
    {
        var x = Tensor.Zeros(2, 3, 4, 5);
        Assert.Equal(F.Flatten(x, 1).Shape, ShapeInference.Flatten([2, 3, 4, 5], 1));
        Assert.Equal(F.Flatten(x, 1, 2).Shape, ShapeInference.Flatten([2, 3, 4, 5], 1, 2));
        Assert.Equal(F.Concat([x, Tensor.Zeros(2, 1, 4, 5)], 1).Shape, ShapeInference.Concat([[2, 3, 4, 5], [2, 1, 4, 5]], 1));
        Assert.Equal([2, 3, 4, 5], ShapeInference.Broadcast([2, 3, 4, 5], [3, 1, 1]));
        var error = Assert.Throws<ArgumentException>(() => ShapeInference.Concat([[2, 3, 4, 5], [2, 1, 4, 6]], 1));
        Assert.Equal(Assert.Throws<ArgumentException>(() => F.Concat([x, Tensor.Zeros(2, 1, 4, 6)], 1)).Message, error.Message);
    }
}
