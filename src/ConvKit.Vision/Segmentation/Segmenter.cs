using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Training;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Segmentation;

/// <summary>
/// Labels every pixel of a picture with a trained segmentation model (<c>convkit segment train</c>):
/// <code>
/// var segmenter = Segmenter.Load("runs/unet-small-fashion-scenes/best.safetensors");
/// Tensor mask = segmenter.PredictMask("scene.png");   // (H, W) class indices into segmenter.Card.Classes
/// </code>
/// The model is fully convolutional, so a picture of any size works: it is normalised as in training, padded with
/// zeros at the bottom and right up to a multiple of the model's <see cref="ISegmentationModel.SizeMultiple"/>, and the
/// scores are cropped back to the picture before the arg-max, so the mask has the picture's own size.
/// </summary>
public sealed class Segmenter
{
    readonly int sizeMultiple;

    /// <summary>A segmenter for <paramref name="model"/> (put in evaluation mode) fed as <paramref name="card"/> says.</summary>
    public Segmenter(Module model, ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(card);
        card.Validate();
        sizeMultiple = model is ISegmentationModel dense ? dense.SizeMultiple
            : throw new ArgumentException($"Segmenter: {model.GetType().Name} does not score every pixel (it is not an ISegmentationModel).");
        Model = model.Eval();
        Card = card;
    }

    /// <summary>Reads a checkpoint written by <c>convkit segment train</c>; a checkpoint of another task is refused, naming it.</summary>
    public static Segmenter Load(string checkpointPath)
    {
        var (model, card) = ModelZoo.Load(Checkpoint.Load(checkpointPath), checkpointPath, ModelCard.Segmentation);
        return new Segmenter(model, card);
    }

    /// <summary>The trained model, in evaluation mode.</summary>
    public Module Model { get; }

    /// <summary>The model's name, classes (background first) and preprocessing.</summary>
    public ModelCard Card { get; }

    int Channels => Card.Preprocessing.InputShape[0];

    /// <summary>The mask of a picture file (decoded to the model's channels, at its own size).</summary>
    public Tensor PredictMask(string path) => PredictMask(ImageFiles.Load(path, Channels));

    /// <summary>The class index of every pixel of <paramref name="picture"/> (C, H, W), values in [0, 1]: an (H, W) Int32 tensor.</summary>
    public Tensor PredictMask(Tensor picture)
    {
        if (picture.Rank != 3 || picture.Shape[0] != Channels)
            throw new ArgumentException($"Segmenter: the model takes pictures of {Channels} channel(s), (C, H, W), but got [{string.Join(", ", picture.Shape)}].");
        int height = picture.Shape[1], width = picture.Shape[2];
        var values = picture.ToArray();
        Card.Preprocessing.Normalization.Apply(values, [Channels, height, width], new Random(0));
        int paddedHeight = (height + sizeMultiple - 1) / sizeMultiple * sizeMultiple, paddedWidth = (width + sizeMultiple - 1) / sizeMultiple * sizeMultiple;
        // Padding after normalising puts the model's mean, not black, outside the picture: the zero its training data averaged.
        var padded = F.Pad(Tensor.FromArray(values, 1, Channels, height, width), [0, paddedWidth - width, 0, paddedHeight - height]);
        using (Tensor.NoGrad())
        {
            var scores = Model.Forward(padded).Narrow(2, 0, height).Narrow(3, 0, width);
            return F.ArgMax(scores, 1).Squeeze(0);
        }
    }
}
