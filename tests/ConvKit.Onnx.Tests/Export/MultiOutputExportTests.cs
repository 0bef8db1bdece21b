using ConvKit.NN;
using ConvKit.Vision.Models;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>A model with several named outputs exports one graph output per name; GoogLeNet's side classifiers do not export.</summary>
public class MultiOutputExportTests
{
    /// <summary>A shared convolution and two heads: class scores and a box per picture.</summary>
    sealed class TwoHeads : Module
    {
        readonly Conv2d trunk;
        readonly Linear scores, boxes;

        public TwoHeads()
        {
            using var _ = Generator.Use(new Generator(4));
            trunk = RegisterModule("trunk", new Conv2d(1, 2, 3));
            scores = RegisterModule("scores", new Linear(8, 3));
            boxes = RegisterModule("boxes", new Linear(8, 4));
        }

        protected override Tensor ForwardCore(Tensor input) => ForwardCore([input]).Main;

        protected override TensorDict ForwardCore(IReadOnlyList<Tensor> inputs)
        {
            var features = ConvKit.Ops.F.Flatten(ConvKit.Ops.F.Relu(trunk.Forward(inputs[0])), 1);
            return new TensorDict { { "scores", scores.Forward(features) }, { "boxes", boxes.Forward(features) } };
        }
    }

    [Fact]
    public void EachNamedOutputBecomesAGraphOutputThatOnnxRuntimeComputes()
    {
        var model = new TwoHeads();
        var input = Tensor.Randn([2, 1, 4, 4], seed: 3);
        var bytes = OnnxExporter.Export(model, [1, 1, 4, 4]);
        var ort = Reference.Run(bytes, new Dictionary<string, Tensor> { ["input"] = input });
        Assert.Equal(["scores", "boxes"], ort.Keys);
        TensorDict expected;
        using (Tensor.NoGrad()) expected = model.Eval().ForwardOutputs(input);
        foreach (var name in ort.Keys) Reference.Close(ort[name].Values, ort[name].Shape, expected[name], 1e-5, name);
    }

    [Fact]
    public void GoogLeNetExportsItsMainLogitsOnly()
    {
        var model = ModelZoo.Create("googlenet", 3, 5).Train();
        var proto = OnnxExporter.ToModelProto(model, [1, 3, 64, 64]);
        Assert.Equal(["output"], proto.Graph.Output.Select(o => o.Name));
        Assert.DoesNotContain(proto.Graph.Initializer, i => i.Name.StartsWith("aux"));
        Assert.True(model.Training, "export restores the model's mode");
    }
}
