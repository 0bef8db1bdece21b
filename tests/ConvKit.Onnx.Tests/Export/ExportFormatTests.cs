using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Onnx.Proto;
using ConvKit.Vision.Models;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>What the exported file declares (opset, names, dynamic batch, initialisers) and what cannot be exported.</summary>
public class ExportFormatTests
{
    static ModelProto Parse(byte[] bytes) => ModelProto.Parser.ParseFrom(bytes);

    [Fact]
    public void FileDeclaresOpset17NamedInputAndOutputAndASymbolicBatch()
    {
        var model = Parse(OnnxExporter.Export(new LeNet5(numClasses: 7), [1, 1, 32, 32]));

        Assert.Equal(8, model.IrVersion);
        var opset = Assert.Single(model.OpsetImport);
        Assert.Equal(("", 17L), (opset.Domain, opset.Version));

        var input = Assert.Single(model.Graph.Input);
        Assert.Equal("input", input.Name);
        Assert.Equal((int)TensorProto.Types.DataType.Float, input.Type.TensorType.ElemType);
        Assert.Equal(["batch", "1", "32", "32"], Dims(input));
        var output = Assert.Single(model.Graph.Output);
        Assert.Equal("output", output.Name);
        Assert.Equal(["batch", "7"], Dims(output));
        Assert.Equal("output", model.Graph.Node.Last().Output.Single());
    }

    [Fact]
    public void FixedBatchAndOtherNamesOnRequest()
    {
        var options = new OnnxExportOptions { InputName = "image", OutputName = "logits", DynamicBatch = false };
        var model = Parse(OnnxExporter.Export(new LeNet5(), [3, 1, 32, 32], options));
        Assert.Equal(["3", "1", "32", "32"], Dims(model.Graph.Input.Single()));
        Assert.Equal("image", model.Graph.Input.Single().Name);
        Assert.Equal(["3", "10"], Dims(model.Graph.Output.Single()));
        Assert.Equal("logits", model.Graph.Output.Single().Name);
    }

    [Fact]
    public void InitialisersCarryStateDictNamesAndEvaluationModeShowsInTheNodes()
    {
        var net = new SmallCnn(numClasses: 4);
        var model = Parse(OnnxExporter.Export(net, [1, 1, 28, 28]));

        // Every parameter and running statistic, under its state-dict name (num_batches_tracked is not used);
        // besides them only the flatten's target shape.
        var expected = net.StateDict().Keys.Where(k => !k.EndsWith("num_batches_tracked")).Order();
        var floats = model.Graph.Initializer.Where(i => i.DataType == (int)TensorProto.Types.DataType.Float);
        Assert.Equal(expected, floats.Select(i => i.Name).Order());
        Assert.Equal([(int)TensorProto.Types.DataType.Int64], model.Graph.Initializer.Except(floats).Select(i => i.DataType));
        var conv = model.Graph.Initializer.Single(i => i.Name == "features.0.conv.weight");
        Assert.Equal([32L, 1, 3, 3], conv.Dims);

        var ops = model.Graph.Node.Select(n => n.OpType).ToList();
        Assert.Equal(4, ops.Count(o => o == "BatchNormalization"));
        Assert.DoesNotContain("Dropout", ops);
        // Nodes are named after the layers that made their outputs.
        Assert.Contains(model.Graph.Node, n => n.Name == "features.0.conv" && n.OpType == "Conv");
    }

    [Fact]
    public void ImportedBackTheWeightsKeepTheirStateDictNames()
    {
        var net = new SmallCnn(numClasses: 4);
        var imported = OnnxModel.Load(OnnxExporter.Export(net, [1, 1, 28, 28]));
        var state = net.StateDict().Where(p => !p.Key.EndsWith("num_batches_tracked")).ToList();
        Assert.Equal(state.Select(p => p.Key).Order(), imported.StateDict().Keys.Order());
        foreach (var (name, value) in state) Assert.Equal(value.ToArray(), imported.StateDict()[name].ToArray());
    }

    [Fact]
    public void PathStreamAndBytesGiveTheSameFile()
    {
        var net = new LeNet5();
        var bytes = OnnxExporter.Export(net, [1, 1, 32, 32]);
        string path = Path.Combine(Path.GetTempPath(), $"convkit-export-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExporter.Export(net, [1, 1, 32, 32], path);
            Assert.Equal(bytes, File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
        using var stream = new MemoryStream();
        OnnxExporter.Export(net, [1, 1, 32, 32], stream);
        Assert.Equal(bytes, stream.ToArray());
    }

    [Fact]
    public void ExportLeavesTrainingModesAndStatisticsAsTheyWere()
    {
        var net = new SmallCnn();
        net.Train();
        net.Classifier.Eval();
        var before = net.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());

        OnnxExporter.Export(net, [2, 1, 28, 28]);

        Assert.True(net.Training);
        Assert.True(net.Features.Training);
        Assert.False(net.Classifier.Training);
        Assert.False(net.Classifier[0].Training);
        foreach (var (name, value) in net.StateDict()) Assert.Equal(before[name], value.ToArray());
    }

    sealed class SortLayer : Module
    {
        protected override Tensor ForwardCore(Tensor input) => F.Sort(input, 1).Values;
    }

    sealed class Rogue : Module
    {
        protected override Tensor ForwardCore(Tensor input) => Tensor.Zeros([.. input.Shape]);
    }

    [Fact]
    public void AnOpWithoutTranslationIsNamedWithItsLayer()
    {
        var model = new Sequential(new Conv2d(1, 2, 3), new SortLayer(), new ReLU());
        var error = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(model, [1, 1, 8, 8]));
        Assert.Contains("'Sort'", error.Message);
        Assert.Contains("layer '1' (SortLayer)", error.Message);
    }

    [Fact]
    public void UnsupportedLayerConfigurationsAreNamed()
    {
        var batchStatistics = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2, trackRunningStats: false));
        var error = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(batchStatistics, [2, 1, 8, 8]));
        Assert.Contains("'BatchNorm'", error.Message);
        Assert.Contains("layer '1' (BatchNorm2d)", error.Message);

        var evenLrn = new Sequential(new Conv2d(1, 6, 3), new LocalResponseNorm(4));
        error = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(evenLrn, [1, 1, 8, 8]));
        Assert.Contains("'LocalResponseNorm'", error.Message);
        Assert.Contains("LocalResponseNorm)", error.Message);

        var detached = new Sequential(new Conv2d(1, 2, 3), new Rogue(), new ReLU());
        error = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(detached, [1, 1, 8, 8]));
        Assert.Contains("layer '1' (Rogue)", error.Message);
    }

    [Fact]
    public void BadInputShapesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => OnnxExporter.Export(new LeNet5(), []));
        Assert.Throws<ArgumentException>(() => OnnxExporter.Export(new LeNet5(), [1, 1, 0, 32]));
        // The model's own shape check speaks for a wrong size.
        Assert.ThrowsAny<ArgumentException>(() => OnnxExporter.Export(new LeNet5(), [1, 3, 32, 32]));
    }

    static string[] Dims(ValueInfoProto value) =>
        [.. value.Type.TensorType.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : d.DimValue.ToString())];
}
