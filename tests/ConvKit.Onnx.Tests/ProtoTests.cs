using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx.Tests;

public class ProtoTests
{
    /// <summary>The packaged ResNet-18 parses with our message definitions: a graph with nodes, weights and one input.</summary>
    [Fact]
    public void PackagedResNet18Parses()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.NotEmpty(model.Graph.Node);
        Assert.NotEmpty(model.Graph.Initializer);
        Assert.Contains(model.OpsetImport, o => o.Domain is "" or "ai.onnx");
    }
}
