using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Training;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Finds objects in pictures with a trained detection model (<see cref="IDetectionModel"/>, e.g. <c>yolo-small</c>):
/// <code>
/// var detector = Detector.Load("runs/yolo-small-fashion-scenes/best.safetensors");
/// foreach (var d in detector.Detect("scene.png", new DetectionOptions(ScoreThreshold: 0.25f)))
///     Console.WriteLine($"{detector.Card.Classes[d.Class]} {d.Score:P0} at ({d.X1}, {d.Y1})–({d.X2}, {d.Y2})");
/// </code>
/// A region-based model (<see cref="IRegionDetectionModel"/>: <c>rcnn</c>, <c>fast-rcnn</c>, <c>faster-rcnn</c>) gets the
/// normalised picture as it is. A grid model is fully convolutional, so a picture of any size works: it is normalised as in training, padded with
/// zeros at the bottom and right up to a multiple of the model's <see cref="IDetectionModel.Stride"/>, and the boxes
/// are clipped to the picture itself.
/// </summary>
public sealed class Detector
{
    readonly IDetectionModel? detectionModel;
    readonly IRegionDetectionModel? regionModel;

    /// <summary>A detector for <paramref name="model"/> (put in evaluation mode) fed as <paramref name="card"/> says.</summary>
    public Detector(Module model, ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(card);
        card.Validate();
        detectionModel = model as IDetectionModel;
        regionModel = model as IRegionDetectionModel;
        if (detectionModel == null && regionModel == null)
            throw new ArgumentException($"Detector: {model.GetType().Name} does not detect objects (it is neither an IDetectionModel nor an IRegionDetectionModel).");
        Model = model.Eval();
        Card = card;
    }

    /// <summary>Reads a checkpoint written by detection training; a checkpoint of another task is refused, naming it.</summary>
    public static Detector Load(string checkpointPath)
    {
        var (model, card) = ModelZoo.Load(Checkpoint.Load(checkpointPath), checkpointPath, ModelCard.Detection);
        return new Detector(model, card);
    }

    /// <summary>The detection network (an <see cref="IDetectionModel"/> or an <see cref="IRegionDetectionModel"/>).</summary>
    public Module Model { get; }

    /// <summary>The model's name, classes and preprocessing.</summary>
    public ModelCard Card { get; }

    int Channels => Card.Preprocessing.InputShape[0];

    /// <summary>The objects in a picture file (decoded to the model's channels, at its own size).</summary>
    public IReadOnlyList<DetectedObject> Detect(string path, DetectionOptions? options = null) => Detect(ImageFiles.Load(path, Channels), options);

    /// <summary>The objects in <paramref name="picture"/> (C, H, W), values in [0, 1]: boxes in its pixels, by decreasing score.</summary>
    public IReadOnlyList<DetectedObject> Detect(Tensor picture, DetectionOptions? options = null)
    {
        if (picture.Rank != 3 || picture.Shape[0] != Channels)
            throw new ArgumentException($"Detector: the model takes pictures of {Channels} channel(s), (C, H, W), but got [{string.Join(", ", picture.Shape)}].");
        int height = picture.Shape[1], width = picture.Shape[2];
        var values = picture.ToArray();
        Card.Preprocessing.Normalization.Apply(values, [Channels, height, width], new Random(0));
        // A region model takes the picture as it is: its boxes come from proposals, not from a grid that needs padding.
        if (regionModel != null) return regionModel.Detect(Tensor.FromArray(values, 1, Channels, height, width), options)[0];
        int stride = detectionModel!.Stride;
        int paddedHeight = (height + stride - 1) / stride * stride, paddedWidth = (width + stride - 1) / stride * stride;
        // Padding after normalising puts the model's mean, not black, outside the picture: the zero its training data averaged.
        var padded = F.Pad(Tensor.FromArray(values, 1, Channels, height, width), [0, paddedWidth - width, 0, paddedHeight - height]);
        using (Tensor.NoGrad())
            return YoloDecoder.Decode(Model.Forward(padded), detectionModel.Anchors, stride, options, new Size2(height, width))[0];
    }
}
