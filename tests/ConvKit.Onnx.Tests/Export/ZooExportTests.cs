using ConvKit.Vision.Models;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>
/// Every zoo model exported (traced at batch 1) and run by ONNX Runtime at batch 2 gives ConvKit's outputs, and so
/// does the file imported back into ConvKit. Inputs are as small as each architecture allows and the class count is
/// reduced, to keep the suite quick (building the VGGs' 100M-weight classifiers is most of its time).
/// </summary>
public class ZooExportTests
{
    const int Classes = 5;

    /// <summary>The smallest convenient input side per model: the ImageNet networks pool adaptively, so they take small images.</summary>
    static int InputSide(string name) => name switch
    {
        "lenet5" => 32,
        "lenet5-mnist" or "small-cnn" or "resnet-mnist" => 28,
        "alexnet" or "googlenet" or "unet" => 64,
        "alexnet-lrn" => 67,
        _ when name.StartsWith("vgg") => 32,
        "rcnn" => 32,   // R-CNN's network takes warped 32×32 regions; the proposals and warp are outside the graph
        _ when name.StartsWith("resnet") => 64,
        _ => ModelZoo.Get(name).InputSize.Height,
    };

    // Faster R-CNN's graph has three outputs (features and the RPN's two); RegionDetectorExportTests checks them all.
    public static TheoryData<string> Models() => [.. ModelZoo.Models.Select(m => m.Name).Where(name => name != "faster-rcnn")];

    [Theory]
    [MemberData(nameof(Models))]
    public void ExportedModelGivesConvKitsOutputsInOnnxRuntimeAndImportedBack(string name)
    {
        var entry = ModelZoo.Get(name);
        var model = entry.Create(entry.InChannels, name == "unet" ? 2 : Classes);
        int side = InputSide(name);
        var input = Tensor.Randn([2, entry.InChannels, side, side], seed: 11);
        var bytes = OrtCheck.ExportAndCompare(model, input, name);

        var imported = OnnxModel.Load(bytes);
        Tensor expected, actual;
        using (Tensor.NoGrad())
        {
            expected = model.Forward(input);
            actual = imported.Forward(input);
        }
        Reference.Close(expected.ToArray(), [.. expected.Shape], actual, 1e-4, $"{name} imported back");
    }
}
