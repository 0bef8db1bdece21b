using ConvKit.Vision.Faces;
using ConvKit.Vision.Pretrained;
using Xunit.Sdk;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>
/// The pretrained face networks — detector, landmarks, encoder — (from the pretrained-weights cache; the test fails, saying how to install them, when
/// they are not there) exported to ONNX and run by ONNX Runtime: the same outputs as ConvKit. The exported detector
/// carries TF "same" max pooling as explicit asymmetric pads, the encoder its zero-channel and zero-row shortcuts.
/// </summary>
public sealed class FaceNetworkExportTests
{
    static readonly Lazy<FaceModels> Models = new(() => FaceModels.FromPackage(
        new PretrainedStore().FindCached(PretrainedPackage.FaceApi) ?? throw new XunitException(
            $"the face models' package {PretrainedPackage.FaceApi} is not in the pretrained-weights cache; install it with " +
            "'bash scripts/setup.sh' or './convkit faces fetch'.")));

    [Fact]
    public void Tiny_face_detector_runs_the_same_in_onnx_runtime()
    {
        var input = (Tensor.Rand([2, 3, 416, 416], 3) - 0.45f) * 2f;
        OrtCheck.ExportAndCompare(Models.Value.Detector.Network, input, "tiny face detector");
    }

    [Fact]
    public void Landmark_network_runs_the_same_in_onnx_runtime()
    {
        var input = (Tensor.Rand([2, 3, 112, 112], 5) - 0.45f) * 2f;
        OrtCheck.ExportAndCompare(Models.Value.Landmarker.Network, input, "face landmark network");
    }

    [Fact]
    public void Face_encoder_runs_the_same_in_onnx_runtime()
    {
        // Batch 1: F.Pad exports as a Concat with a zero constant of the traced shape (the shortcuts' zero channels), so the
        // exported encoder's batch axis is fixed at the traced 1.
        var input = (Tensor.Rand([1, 3, 150, 150], 4) - 0.45f) * 2f;
        OrtCheck.ExportAndCompare(Models.Value.Encoder.Network, input, "face encoder");
    }
}
