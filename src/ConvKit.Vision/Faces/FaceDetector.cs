using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Faces;

/// <summary>
/// Finds faces in a picture of any size with the pretrained <see cref="TinyFaceDetectorNetwork"/>, as face-api.js's
/// <c>TinyFaceDetector</c> does: the picture is padded at the bottom or right to a square, resized to the input size and
/// normalised (<see cref="FacePreprocessing"/>); each of the 5 anchors of each cell of the S/32 grid gives a box
/// (<see cref="Decode"/>); boxes scoring above the threshold go through non-maximum suppression
/// (<see cref="BoxOps.Nms(ReadOnlySpan{float}, ReadOnlySpan{float}, double)"/>). Faces come back as
/// <see cref="DetectedObject"/>s of class 0, xyxy in the picture's pixels, best first; boxes are not clipped and may
/// leave the picture.
/// </summary>
public sealed class FaceDetector(TinyFaceDetectorNetwork network, FaceDetectorOptions? options = null)
{
    /// <summary>The network.</summary>
    public TinyFaceDetectorNetwork Network { get; } = network ?? throw new ArgumentNullException(nameof(network));

    /// <summary>Input size and thresholds.</summary>
    public FaceDetectorOptions Options { get; } = (options ?? new FaceDetectorOptions()).Validate();

    /// <summary>The faces in <paramref name="picture"/>, best first.</summary>
    /// <param name="picture">(3, H, W), RGB in [0, 1] (as <see cref="Imaging.ImageFiles.Load"/> gives)</param>
    public IReadOnlyList<DetectedObject> Detect(Tensor picture)
    {
        FacePreprocessing.CheckPicture("FaceDetector", picture);
        int height = picture.Shape[1], width = picture.Shape[2];
        var input = FacePreprocessing.ToNetworkInput(picture, FacePreprocessing.SquarePadding.For(height, width, centred: false), Options.InputSize, FacePreprocessing.DetectorMean);
        Tensor output;
        using (Tensor.NoGrad()) output = Network.Forward(input);
        return Decode(output, height, width, Options);
    }

    /// <summary>
    /// Boxes from the network's output for an <paramref name="height"/> × <paramref name="width"/> picture. For grid cell
    /// (row, col) and anchor a (channels a·5 … a·5 + 4 = tx, ty, tw, th, to): score σ(to), kept when above the threshold;
    /// centre ((col + σ(tx))/G, (row + σ(ty))/G) and size (e^tw·Aw/G, e^th·Ah/G) as fractions of the padded square,
    /// turned into fractions of the picture by multiplying x-terms by S/round(W·r) and y-terms by S/round(H·r),
    /// r = S/max(H, W), then into pixels. Arithmetic in float64, as face-api.js's JavaScript.
    /// </summary>
    /// <param name="output">(1, 25, G, G)</param>
    public static IReadOnlyList<DetectedObject> Decode(Tensor output, int height, int width, FaceDetectorOptions options)
    {
        int anchors = TinyFaceDetectorNetwork.Anchors.Count, size = TinyFaceDetectorNetwork.BoxEncodingSize;
        if (output.Rank != 4 || output.Shape[0] != 1 || output.Shape[1] != anchors * size || output.Shape[2] != output.Shape[3])
            throw new ArgumentException($"FaceDetector.Decode: expected an output of shape (1, {anchors * size}, G, G), got [{string.Join(", ", output.Shape)}].");
        int grid = output.Shape[2], plane = grid * grid;
        double r = options.InputSize / (double)Math.Max(height, width);
        double correctionX = options.InputSize / JsRound(width * r), correctionY = options.InputSize / JsRound(height * r);
        var values = output.ToArray();
        var boxes = new List<float>();
        var scores = new List<float>();
        for (int row = 0; row < grid; row++)
            for (int col = 0; col < grid; col++)
                for (int a = 0; a < anchors; a++)
                {
                    double Value(int k) => values[(a * size + k) * plane + row * grid + col];
                    double score = Sigmoid(Value(4));
                    if (!(score > options.ScoreThreshold)) continue;
                    double cx = (col + Sigmoid(Value(0))) / grid * correctionX, cy = (row + Sigmoid(Value(1))) / grid * correctionY;
                    double w = Math.Exp(Value(2)) * TinyFaceDetectorNetwork.Anchors[a].Width / grid * correctionX;
                    double h = Math.Exp(Value(3)) * TinyFaceDetectorNetwork.Anchors[a].Height / grid * correctionY;
                    double x1 = (cx - w / 2) * width, y1 = (cy - h / 2) * height;
                    boxes.AddRange([(float)x1, (float)y1, (float)(x1 + w * width), (float)(y1 + h * height)]);
                    scores.Add((float)score);
                }
        var kept = BoxOps.Nms(boxes.ToArray(), scores.ToArray(), options.IouThreshold);
        return [.. kept.Select(i => new DetectedObject(0, scores[i], boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]))];
    }

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>JavaScript's Math.round: halves go up.</summary>
    static double JsRound(double x) => Math.Floor(x + 0.5);
}
