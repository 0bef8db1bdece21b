using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Faces;

/// <summary>
/// Turns faces into <see cref="FaceEncoding"/>s with the pretrained <see cref="FaceEncoderNetwork"/>, fed as face-api.js
/// feeds it: the face is cut out of the picture (<see cref="CropBox"/>), padded with zeros to a centred square, resized
/// to 150×150 with TensorFlow's bilinear resize and normalised with the encoder's mean (<see cref="FacePreprocessing"/>).
/// The crop is the detection box, axis-aligned (face-api's crop without landmarks; no rotation).
/// </summary>
public sealed class FaceEncoder(FaceEncoderNetwork network)
{
    /// <summary>The network.</summary>
    public FaceEncoderNetwork Network { get; } = network ?? throw new ArgumentNullException(nameof(network));

    /// <summary>The encoding of a picture that is one face, cropped already.</summary>
    /// <param name="face">(3, H, W), RGB in [0, 1]</param>
    public FaceEncoding Encode(Tensor face) => EncodeAll([face])[0];

    /// <summary>The encoding of the face found at <paramref name="box"/> (xyxy pixels) in <paramref name="picture"/>.</summary>
    public FaceEncoding Encode(Tensor picture, DetectedObject box) => Encode(Crop(picture, box));

    /// <summary>The encodings of the faces at <paramref name="boxes"/> in <paramref name="picture"/>, run as one batch.</summary>
    public IReadOnlyList<FaceEncoding> Encode(Tensor picture, IReadOnlyList<DetectedObject> boxes) => EncodeAll([.. boxes.Select(b => Crop(picture, b))]);

    /// <summary>The encodings of cropped faces (3, H, W) in [0, 1], run as one batch.</summary>
    public IReadOnlyList<FaceEncoding> EncodeAll(IReadOnlyList<Tensor> faces)
    {
        if (faces.Count == 0) return [];
        var inputs = faces.Select(face =>
        {
            FacePreprocessing.CheckPicture("FaceEncoder", face);
            var padding = FacePreprocessing.SquarePadding.For(face.Shape[1], face.Shape[2], centred: true);
            return FacePreprocessing.ToNetworkInput(face, padding, FaceEncoderNetwork.InputSize, FacePreprocessing.EncoderMean);
        }).ToList();
        float[] output;
        using (Tensor.NoGrad()) output = Network.Forward(Ops.F.Concat(inputs, 0)).ToArray();
        int size = FaceEncoderNetwork.EncodingSize;
        return [.. Enumerable.Range(0, faces.Count).Select(i => new FaceEncoding(output[(i * size)..((i + 1) * size)]))];
    }

    /// <summary>
    /// The part of <paramref name="picture"/> under <paramref name="box"/>, as face-api.js cuts it: the box clipped to the
    /// picture, then its left, top, width and height each rounded down.
    /// </summary>
    /// <exception cref="ArgumentException">the box lies outside the picture or has no area inside it</exception>
    public static Tensor Crop(Tensor picture, DetectedObject box)
    {
        FacePreprocessing.CheckPicture("FaceEncoder.Crop", picture);
        var (x, y, width, height) = CropBox(picture.Shape[1], picture.Shape[2], box);
        return picture.Narrow(1, y, height).Narrow(2, x, width);
    }

    /// <summary>The pixel rectangle <see cref="Crop"/> cuts for <paramref name="box"/> from an <paramref name="pictureHeight"/> × <paramref name="pictureWidth"/> picture.</summary>
    public static (int X, int Y, int Width, int Height) CropBox(int pictureHeight, int pictureWidth, DetectedObject box)
    {
        double x = Math.Max(box.X1, 0), y = Math.Max(box.Y1, 0);
        double width = Math.Min(box.X2 - x, pictureWidth - x), height = Math.Min(box.Y2 - y, pictureHeight - y);
        int left = (int)Math.Floor(x), top = (int)Math.Floor(y), w = (int)Math.Floor(width), h = (int)Math.Floor(height);
        if (w < 1 || h < 1 || left >= pictureWidth || top >= pictureHeight)
            throw new ArgumentException(
                $"FaceEncoder: the face box ({box.X1:F1}, {box.Y1:F1}, {box.X2:F1}, {box.Y2:F1}) has no area inside the {pictureWidth}×{pictureHeight} picture.");
        return (left, top, Math.Min(w, pictureWidth - left), Math.Min(h, pictureHeight - top));
    }
}
