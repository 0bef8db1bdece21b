using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN;

public class ModelSummaryTests
{
    // The course's bottleneck example: a 28×28×192 volume to 32 channels with a 5×5 "same" convolution costs
    // 120,422,400 multiplications; a 1×1 convolution to 16 channels first brings the total to 12,443,648.
    [Fact]
    public void CountsTheCoursesBottleneckExample()
    {
        var direct = ModelSummary.Of(new Sequential(new Conv2d(192, 32, kernelSize: 5, padding: "same")), 1, 192, 28, 28);
        Assert.Equal(120_422_400, direct.TotalMultiplyAccumulates);

        var bottleneck = ModelSummary.Of(new Sequential(
            new Conv2d(192, 16, kernelSize: 1), new Conv2d(16, 32, kernelSize: 5, padding: "same")), 1, 192, 28, 28);
        Assert.Equal(12_443_648, bottleneck.TotalMultiplyAccumulates);
        Assert.Equal([1, 32, 28, 28], bottleneck.OutputShape);
        Assert.Equal(2, bottleneck.Layers.Count);
        Assert.Equal([1, 16, 28, 28], bottleneck.Layers[0].OutputShape);
    }

    [Fact]
    public void ATransposedConvolutionCostsWhatItsAdjointConvolutionCosts()
    {
        // ConvTranspose2d(4 → 2) on 3×3 is the adjoint of Conv2d(2 → 4) on 6×6: the same products, summed the other way.
        var transposed = ModelSummary.Of(new ConvTranspose2d(4, 2, kernelSize: 2, stride: 2), 1, 4, 3, 3);
        var forward = ModelSummary.Of(new Conv2d(2, 4, kernelSize: 2, stride: 2), 1, 2, 6, 6);
        Assert.Equal([1, 2, 6, 6], transposed.OutputShape);
        Assert.Equal(forward.TotalMultiplyAccumulates, transposed.TotalMultiplyAccumulates);
        Assert.Equal(4 * 3 * 3 * 2 * 2 * 2, transposed.TotalMultiplyAccumulates);
    }

    /// <summary>Calls its one child twice.</summary>
    sealed class Twice : Module
    {
        readonly Module inner;
        public Twice(Module inner) => this.inner = RegisterModule("inner", inner);
        protected override Tensor ForwardCore(Tensor input) => inner.Forward(inner.Forward(input));
    }

    [Fact]
    public void ListsLeafLayersInExecutionOrderWithParametersOnce()
    {
        var model = new Sequential(new Linear(3, 5), new ReLU(), new Twice(new Linear(5, 5)), new Sequential(new Linear(5, 2)));
        var summary = ModelSummary.Of(model, 4, 3);

        Assert.Equal(["0", "1", "2.inner", "2.inner", "3.0"], summary.Layers.Select(l => l.Name));
        Assert.Equal(["Linear", "ReLU", "Linear", "Linear", "Linear"], summary.Layers.Select(l => l.Type));
        Assert.Equal([20L, 0, 30, 0, 12], summary.Layers.Select(l => l.Parameters));
        // A linear layer multiplies each of the 4 rows by its in × out weights.
        Assert.Equal([4L * 3 * 5, 0, 4 * 25, 4 * 25, 4 * 5 * 2], summary.Layers.Select(l => l.MultiplyAccumulates));
        Assert.Equal(model.ParameterCount(), summary.TotalParameters);
        Assert.Equal(summary.Layers.Sum(l => l.Parameters), summary.TotalParameters);
        Assert.Contains("Total params: 62", summary.ToString());
    }

    [Fact]
    public void RunsInEvaluationModeWithoutGradientsAndRestoresTheModes()
    {
        var dropout = new Dropout(0.5f);
        var model = new Sequential(new Linear(3, 3), dropout);
        model.Train();
        dropout.Eval();
        var before = model.NamedModules().Select(m => m.Module.Training).ToArray();

        var seen = new List<bool>();
        using (model.RegisterForwardHookEverywhere((m, _, outputs) => seen.Add(m.Training || outputs.Main.RequiresGrad)))
            ModelSummary.Run(model, [[2, 3]]);

        Assert.Equal(3, seen.Count);   // both layers and the Sequential
        Assert.All(seen, Assert.False);
        Assert.Equal(before, model.NamedModules().Select(m => m.Module.Training));
    }

    [Fact]
    public void AShapeTheModelCannotTakeIsReportedByTheLayer()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelSummary.Of(new Sequential(new Linear(3, 2)), 1, 4));
        Assert.Contains("Linear", error.Message);
    }

    /// <summary>An image and a per-image vector in; a class score and a box out.</summary>
    sealed class TwoHeads : Module
    {
        readonly Linear scores, boxes;
        public TwoHeads()
        {
            scores = RegisterModule("scores", new Linear(5, 3));
            boxes = RegisterModule("boxes", new Linear(5, 4));
        }

        protected override TensorDict ForwardCore(IReadOnlyList<Tensor> inputs)
        {
            var features = F.Concat([F.Flatten(inputs[0], 1), inputs[1]], 1);
            return new TensorDict { { "scores", scores.Forward(features) }, { "boxes", boxes.Forward(features) } };
        }
    }

    [Fact]
    public void AModelWithSeveralInputsAndOutputsListsThemAll()
    {
        var summary = ModelSummary.Of(new TwoHeads(), new int[][] { [2, 1, 2, 2], [2, 1] });
        Assert.Equal(["scores", "boxes"], summary.Outputs.Keys);
        Assert.Equal([2, 4], summary.Outputs["boxes"]);
        Assert.Equal([2, 3], summary.OutputShape);
        Assert.Equal(["scores", "boxes"], summary.Layers.Select(l => l.Name));
        Assert.Equal(2L * 5 * 3 + 2L * 5 * 4, summary.TotalMultiplyAccumulates);
        Assert.Contains("Outputs: scores [2, 3], boxes [2, 4]", summary.ToString());
    }
}
