using ConvKit.IO;
using ConvKit.Tests;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Faces;

namespace ConvKit.Vision.Tests.Faces;

/// <summary>
/// The pretrained networks against face-api.js itself: FACE_MODELS.md's reference values for the synthetic picture
/// (within 1e-4), and Fixtures/faces.json (tools/fixtures/gen_faces.mjs: the package's own TF.js and face-api code) for
/// the padding and resize, the whole detector (decoding and NMS included) and the whole encoder on pictures that are not
/// square.
/// </summary>
public sealed class FaceNetworkTests
{
    static readonly System.Text.Json.JsonElement Fixture = Fixtures.Load("faces.json");

    /// <summary>(p − mean) / 255 computed from the integer pixels, as face-api feeds a picture already of the input size.</summary>
    static Tensor Normalised(int size, float[] mean)
    {
        var p = FacePackage.Synthetic(size, size, bytes: true).ToArray();
        for (int i = 0; i < p.Length; i++) p[i] = (p[i] - mean[i / (size * size)]) / 255f;
        return Tensor.FromArray(p, 1, 3, size, size);
    }

    [Fact]
    public void Weights_have_the_published_parameter_counts()
    {
        Assert.Equal(193_321, FacePackage.Models.Detector.Network.ParameterCount());
        // 5,614,592 in the file, less the 29 convolutions' scale weights and biases folded into them (2 × 7,552 values).
        var tensors = TfjsWeights.Load(Path.Combine(FacePackage.Folder, "model", "face_recognition_model-weights_manifest.json"));
        Assert.Equal(117, tensors.Count);
        Assert.Equal(5_614_592, tensors.Values.Sum(t => (long)t.Numel));
        long folded = tensors.Where(t => t.Key.Contains("/scale/")).Sum(t => (long)t.Value.Numel);
        Assert.Equal(5_614_592 - folded, FacePackage.Models.Encoder.Network.ParameterCount());
    }

    [Fact]
    public void Detector_output_equals_the_reference_for_the_synthetic_picture()
    {
        Tensor output;
        using (Tensor.NoGrad()) output = FacePackage.Models.Detector.Network.Forward(Normalised(416, FacePreprocessing.DetectorMean));
        Assert.Equal([1, 25, 13, 13], output.Shape);
        var values = output.ToArray();
        float At(int row, int col, int channel) => values[(channel * 13 + row) * 13 + col];
        void Check(int row, int col, int first, double[] expected)
        {
            for (int k = 0; k < expected.Length; k++)
                Assert.True(Math.Abs(At(row, col, first + k) - expected[k]) <= 1e-4 + 5e-6, $"out[{row},{col},{first + k}] = {At(row, col, first + k)}, reference {expected[k]}");
        }
        Check(0, 0, 0, [0.35681, 0.26697, 0.02159, -0.43995, -5.60006]);
        Check(6, 6, 0, [0.11343, -0.45101, -0.01118, -0.37499, -4.38329]);
        Check(12, 12, 20, [-1.59109, 1.77902, 0.05112, -0.06943, -21.74590]);
        // The sums are given to 0.01 in FACE_MODELS.md.
        Assert.InRange(values.Sum(v => (double)v), -7551.15 - 0.006, -7551.15 + 0.006);
        Assert.InRange(values.Sum(v => Math.Abs((double)v)), 8718.20 - 0.006, 8718.20 + 0.006);
    }

    [Fact]
    public void Encoder_output_equals_the_reference_for_the_synthetic_picture()
    {
        float[] e;
        using (Tensor.NoGrad()) e = FacePackage.Models.Encoder.Network.Forward(Normalised(150, FacePreprocessing.EncoderMean)).ToArray();
        Assert.Equal(128, e.Length);
        double[] first = [-0.05325, 0.09946, 0.06971, -0.04148, -0.06827, -0.06622, -0.08122, -0.01367];
        for (int i = 0; i < 8; i++) Assert.True(Math.Abs(e[i] - first[i]) <= 1e-4, $"e[{i}] = {e[i]}, reference {first[i]}");
        Assert.True(Math.Abs(e[126] - -0.01008) <= 1e-4 && Math.Abs(e[127] - -0.02526) <= 1e-4, $"last two {e[126]}, {e[127]}");
        Assert.InRange(e.Sum(v => (double)v), -0.66611 - 1e-4, -0.66611 + 1e-4);
        Assert.InRange(Math.Sqrt(e.Sum(v => (double)v * v)), 1.35354 - 1e-4, 1.35354 + 1e-4);
    }

    [Fact]
    public void Padding_and_resize_equal_tfjs()
    {
        foreach (var c in Fixture.GetProperty("resize").EnumerateArray())
        {
            int height = c.GetProperty("height").GetInt32(), width = c.GetProperty("width").GetInt32(), size = c.GetProperty("size").GetInt32();
            bool centred = c.GetProperty("centred").GetBoolean();
            var padding = FacePreprocessing.SquarePadding.For(height, width, centred);
            var chw = FacePreprocessing.ResizePadded(FacePackage.Synthetic(height, width, bytes: true).ToArray(), 3, height, width, padding, size, size);
            var hwc = Fixtures.Doubles(c.GetProperty("hwc"));
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    for (int ch = 0; ch < 3; ch++)
                    {
                        double expected = hwc[(y * size + x) * 3 + ch], actual = chw[(ch * size + y) * size + x];
                        Assert.True(Math.Abs(actual - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)),
                            $"{height}×{width} → {size} ({(centred ? "centred" : "top-left")}): ({y}, {x}, {ch}) = {actual}, tfjs {expected}");
                    }
        }
    }

    [Fact]
    public void Detector_end_to_end_equals_face_api_on_pictures_that_are_not_square()
    {
        foreach (var c in Fixture.GetProperty("detections").EnumerateArray())
        {
            int height = c.GetProperty("height").GetInt32(), width = c.GetProperty("width").GetInt32();
            var options = new FaceDetectorOptions(c.GetProperty("inputSize").GetInt32(), (float)c.GetProperty("scoreThreshold").GetDouble());
            var found = new FaceDetector(FacePackage.Models.Detector.Network, options).Detect(FacePackage.Synthetic(height, width));
            var expected = c.GetProperty("boxes").EnumerateArray().ToList();
            Assert.True(expected.Count == found.Count, $"{height}×{width} at {options.InputSize}: {found.Count} boxes, face-api {expected.Count}");
            foreach (var (e, d) in expected.Zip(found))
            {
                double x = e.GetProperty("x").GetDouble(), y = e.GetProperty("y").GetDouble();
                double[] box = [x, y, x + e.GetProperty("width").GetDouble(), y + e.GetProperty("height").GetDouble()];
                Assert.Equal(e.GetProperty("score").GetDouble(), d.Score, 1e-6);
                float[] actual = [d.X1, d.Y1, d.X2, d.Y2];
                for (int k = 0; k < 4; k++) Assert.True(Math.Abs(actual[k] - box[k]) < 1e-3, $"box {string.Join(", ", actual)}, face-api {string.Join(", ", box)}");
            }
        }
    }

    [Fact]
    public void Encoder_end_to_end_equals_face_api_on_crops_that_are_not_square()
    {
        foreach (var c in Fixture.GetProperty("descriptors").EnumerateArray())
        {
            int height = c.GetProperty("height").GetInt32(), width = c.GetProperty("width").GetInt32();
            var encoding = FacePackage.Models.Encoder.Encode(FacePackage.Synthetic(height, width));
            Close.All(Fixtures.Doubles(c.GetProperty("descriptor")), encoding.Values.ToArray(), rtol: 0, atol: 1e-4, $"descriptor of a {height}×{width} crop");
        }
    }

    [Fact]
    public void Landmarks_and_the_aligned_square_equal_face_api_on_pictures_that_are_not_square()
    {
        Assert.Equal(356_840, FacePackage.Models.Landmarker.Network.ParameterCount());
        foreach (var c in Fixture.GetProperty("landmarks").EnumerateArray())
        {
            int height = c.GetProperty("height").GetInt32(), width = c.GetProperty("width").GetInt32();
            var landmarks = FacePackage.Models.Landmarker.Detect(FacePackage.Synthetic(height, width));
            var points = landmarks.Points.SelectMany(p => new[] { p.X, p.Y }).ToArray();
            Close.All(Fixtures.Doubles(c.GetProperty("points")), points, rtol: 0, atol: 5e-3, $"landmarks of a {height}×{width} picture");
            var aligned = landmarks.AlignedBox(new DetectedObject(0, 1, 0, 0, width, height));
            var expected = Fixtures.Floats(c.GetProperty("aligned"));
            Assert.Equal(expected, new[] { aligned.X1, aligned.Y1, aligned.X2 - aligned.X1, aligned.Y2 - aligned.Y1 });
        }
    }

    [Fact]
    public void Networks_refuse_inputs_of_the_wrong_shape_and_weights_of_another_model()
    {
        var detector = Assert.Throws<ArgumentException>(() => FacePackage.Models.Detector.Network.Forward(Tensor.Zeros(1, 3, 100, 100)));
        Assert.Contains("multiple of 32", detector.Message);
        Assert.Contains("[1, 3, 100, 100]", detector.Message);
        var encoder = Assert.Throws<ArgumentException>(() => FacePackage.Models.Encoder.Network.Forward(Tensor.Zeros(1, 3, 64, 64)));
        Assert.Contains("(N, 3, 150, 150)", encoder.Message);

        string detectorWeights = Path.Combine(FacePackage.Folder, "model", "tiny_face_detector_model-weights_manifest.json");
        var wrong = Assert.Throws<InvalidDataException>(() => FaceEncoderNetwork.Load(detectorWeights));
        Assert.Contains("face encoder", wrong.Message);
        Assert.Contains("conv32_down/conv/filters", wrong.Message);
    }
}
