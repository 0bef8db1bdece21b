using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Faces;

/// <summary>
/// Finds the 68 landmarks of faces with the pretrained <see cref="FaceLandmarkNetwork"/>, as face-api.js does: the
/// face's detection box is cut out (<see cref="FaceEncoder.Crop"/>), padded to a centred square, resized to 112×112 with
/// TensorFlow's bilinear resize and normalised with the encoder's mean; the network's fractions of that square are
/// mapped back to the crop and then to the picture (shifted by the crop's corner; face-api.js shifts by the unclipped
/// box's corner, which differs only for boxes that leave the picture on the left or top).
/// </summary>
public sealed class FaceLandmarker(FaceLandmarkNetwork network)
{
    /// <summary>The network.</summary>
    public FaceLandmarkNetwork Network { get; } = network ?? throw new ArgumentNullException(nameof(network));

    /// <summary>The landmarks of the faces at <paramref name="boxes"/> (xyxy pixels) in <paramref name="picture"/>, run as one batch.</summary>
    public IReadOnlyList<FaceLandmarks> Detect(Tensor picture, IReadOnlyList<DetectedObject> boxes)
    {
        if (boxes.Count == 0) return [];
        FacePreprocessing.CheckPicture("FaceLandmarker", picture);
        var crops = boxes.Select(b => FaceEncoder.CropBox(picture.Shape[1], picture.Shape[2], b)).ToList();
        var inputs = crops.Select(c => FacePreprocessing.ToNetworkInput(picture.Narrow(1, c.Y, c.Height).Narrow(2, c.X, c.Width),
            FacePreprocessing.SquarePadding.For(c.Height, c.Width, centred: true), FaceLandmarkNetwork.InputSize, FacePreprocessing.EncoderMean)).ToList();
        float[] output;
        using (Tensor.NoGrad()) output = Network.Forward(Ops.F.Concat(inputs, 0)).ToArray();
        return [.. crops.Select((c, i) => Points(output.AsSpan(i * 2 * FaceLandmarkNetwork.PointCount, 2 * FaceLandmarkNetwork.PointCount), c.X, c.Y, c.Width, c.Height))];
    }

    /// <summary>The landmarks of one face, found in a picture that is that face (its whole area).</summary>
    public FaceLandmarks Detect(Tensor face)
    {
        FacePreprocessing.CheckPicture("FaceLandmarker", face);
        return Detect(face, [new DetectedObject(0, 1, 0, 0, face.Shape[2], face.Shape[1])])[0];
    }

    /// <summary>
    /// Fractions of the 112-square to pixels of a <paramref name="width"/> × <paramref name="height"/> crop at
    /// (<paramref name="left"/>, <paramref name="top"/>): (f·112 − padding) / scaled size · size, in float64 as face-api's
    /// postProcess (whose float32 tensors it follows to within rounding).
    /// </summary>
    static FaceLandmarks Points(ReadOnlySpan<float> fractions, int left, int top, int width, int height)
    {
        const double size = FaceLandmarkNetwork.InputSize;
        double scale = size / Math.Max(width, height), scaledWidth = width * scale, scaledHeight = height * scale;
        double padX = scaledWidth < scaledHeight ? Math.Abs(scaledWidth - scaledHeight) / 2 : 0;
        double padY = scaledHeight < scaledWidth ? Math.Abs(scaledWidth - scaledHeight) / 2 : 0;
        var points = new (float X, float Y)[FaceLandmarkNetwork.PointCount];
        for (int i = 0; i < points.Length; i++)
            points[i] = ((float)(left + (fractions[2 * i] * size - padX) / scaledWidth * width),
                         (float)(top + (fractions[2 * i + 1] * size - padY) / scaledHeight * height));
        return new FaceLandmarks(points);
    }
}
