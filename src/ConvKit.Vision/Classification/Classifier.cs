using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Training;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using SkiaSharp;

namespace ConvKit.Vision.Classification;

/// <summary>One of a picture's top classes: the class name, its index among the model's outputs, and its softmax probability.</summary>
public sealed record Prediction(string ClassName, int Index, float Probability);

/// <summary>
/// Classifies pictures with a trained model, feeding each one as training fed its dataset (<see cref="ImagePreprocessing"/>):
/// <code>
/// var classifier = Classifier.Load("runs/lenet5-fashion-mnist/best.safetensors");
/// foreach (var p in classifier.Predict("shoe.png")) Console.WriteLine($"{p.ClassName}: {p.Probability:P1}");
/// </code>
/// Pictures come as files, streams or encoded bytes (PNG, JPEG, BMP, GIF, WebP) or as decoded <see cref="SKBitmap"/>s;
/// the model runs in evaluation mode without recording gradients. A missing file throws
/// <see cref="FileNotFoundException"/>; an undecodable picture, or a checkpoint without a model card,
/// <see cref="InvalidDataException"/>.
/// </summary>
public sealed class Classifier
{
    /// <summary>A classifier for <paramref name="model"/> (put in evaluation mode) fed as <paramref name="card"/> says.</summary>
    public Classifier(Module model, ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(card);
        card.Validate();
        Model = model.Eval();
        Card = card;
    }

    /// <summary>
    /// Reads a checkpoint written by <c>convkit train</c>: rebuilds its zoo model from the model card in its metadata and
    /// loads the trained weights.
    /// </summary>
    public static Classifier Load(string checkpointPath) => FromCheckpoint(Checkpoint.Load(checkpointPath), checkpointPath);

    /// <summary>As <see cref="Load"/>, from a checkpoint already read; <paramref name="path"/> names it in messages.</summary>
    public static Classifier FromCheckpoint(Checkpoint checkpoint, string path)
    {
        var (model, card) = ModelZoo.Load(checkpoint, path, ModelCard.Classification);
        return new Classifier(model, card);
    }

    /// <summary>The model, in evaluation mode.</summary>
    public Module Model { get; }

    /// <summary>The model's name, classes and preprocessing.</summary>
    public ModelCard Card { get; }

    /// <summary>
    /// Inverts pictures (value → 1 − value) before centring and normalising them: a dark object on light paper becomes
    /// light on dark, as in MNIST and Fashion-MNIST.
    /// </summary>
    public bool Invert { get; set; }

    /// <summary>The <paramref name="top"/> most probable classes of the picture in file <paramref name="path"/>, most probable first.</summary>
    public IReadOnlyList<Prediction> Predict(string path, int top = 5) => Predict([path], top)[0];

    /// <summary>The top classes of the picture read from <paramref name="stream"/> (to its end).</summary>
    public IReadOnlyList<Prediction> Predict(Stream stream, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Classify([Decode(copy.GetBuffer().AsSpan(0, (int)copy.Length), "<stream>")], top)[0];
    }

    /// <summary>The top classes of the picture encoded in <paramref name="encoded"/> (the bytes of a PNG, JPEG, ... file).</summary>
    public IReadOnlyList<Prediction> Predict(ReadOnlySpan<byte> encoded, int top = 5) => Classify([Decode(encoded, "<bytes>")], top)[0];

    /// <summary>The top classes of a decoded picture (any colour type; alpha is ignored).</summary>
    public IReadOnlyList<Prediction> Predict(SKBitmap picture, int top = 5) => Predict([picture], top)[0];

    /// <summary>The top classes of each picture file, in one batch; result <c>i</c> belongs to file <c>i</c>.</summary>
    public IReadOnlyList<IReadOnlyList<Prediction>> Predict(IEnumerable<string> paths, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return Classify(paths.Select(path =>
        {
            using var bitmap = ImageFiles.Decode(path, size: null);
            return Pixels(bitmap);
        }).ToList(), top);
    }

    /// <summary>The top classes of each decoded picture, in one batch.</summary>
    public IReadOnlyList<IReadOnlyList<Prediction>> Predict(IEnumerable<SKBitmap> pictures, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(pictures);
        return Classify(pictures.Select(Pixels).ToList(), top);
    }

    /// <summary>
    /// The model's input for the pictures (N, C, H, W): each converted to the card's channels and resized to its image
    /// shape (as <see cref="ImageFiles.ToTensor"/>), inverted when <see cref="Invert"/> is set, centred in the input,
    /// normalised.
    /// </summary>
    public Tensor ToInput(IEnumerable<SKBitmap> pictures)
    {
        ArgumentNullException.ThrowIfNull(pictures);
        return ToInput(pictures.Select(Pixels).ToList());
    }

    /// <summary>
    /// The model's input (1, C, H, W) for the picture in file <paramref name="path"/>, prepared exactly as
    /// <see cref="Predict(string, int)"/> prepares it (for running the same model elsewhere, e.g. its ONNX export).
    /// </summary>
    public Tensor ToInput(string path)
    {
        using var bitmap = ImageFiles.Decode(path, size: null);
        return ToInput([Pixels(bitmap)]);
    }

    float[] Decode(ReadOnlySpan<byte> encoded, string source)
    {
        using var bitmap = ImageFiles.Decode(encoded, source, size: null);
        return Pixels(bitmap);
    }

    /// <summary>A picture's values at the card's image shape, inverted when asked.</summary>
    float[] Pixels(SKBitmap picture)
    {
        var image = Card.Preprocessing.ImageShape;
        var values = ImageFiles.Pixels(picture, image[0], new Size2(image[1], image[2]), out _, out _);
        if (Invert)
            for (int i = 0; i < values.Length; i++) values[i] = 1f - values[i];
        return values;
    }

    Tensor ToInput(IReadOnlyList<float[]> pictures)
    {
        var input = Card.Preprocessing.InputShape;
        // Centred exactly as training centred a smaller dataset in the model's input.
        var centred = new Pictures(pictures, [.. Card.Preprocessing.ImageShape]).PadTo(input[1], input[2]);
        int length = centred.SampleLength;
        var values = new float[pictures.Count * length];
        var normalization = Card.Preprocessing.Normalization;
        for (int i = 0; i < pictures.Count; i++)
        {
            var sample = values.AsSpan(i * length, length);
            centred.ReadImage(i, sample);
            normalization.Apply(sample, input, Random.Shared);
        }
        return Tensor.FromArray(values, [pictures.Count, .. input]);
    }

    IReadOnlyList<IReadOnlyList<Prediction>> Classify(IReadOnlyList<float[]> pictures, int top)
    {
        if (top < 1) throw new ArgumentOutOfRangeException(nameof(top), top, "Classifier.Predict: top must be at least 1.");
        if (pictures.Count == 0) return [];
        int classes = Card.Classes.Count, k = Math.Min(top, classes);
        float[] probabilities;
        using (Tensor.NoGrad())
        {
            var logits = Model.Forward(ToInput(pictures));
            if (logits.Shape.Count != 2 || logits.Shape[0] != pictures.Count || logits.Shape[1] != classes)
                throw new InvalidOperationException($"Classifier: the model gave outputs of shape [{string.Join(", ", logits.Shape)}], " +
                    $"not ({pictures.Count}, {classes}) for {pictures.Count} picture(s) and the card's {classes} classes.");
            probabilities = F.Softmax(logits, 1).ToArray();
        }
        return Enumerable.Range(0, pictures.Count).Select(i => (IReadOnlyList<Prediction>)Enumerable.Range(0, classes)
                .OrderByDescending(c => probabilities[i * classes + c]).Take(k)
                .Select(c => new Prediction(Card.Classes[c], c, probabilities[i * classes + c])).ToArray())
            .ToArray();
    }

    /// <summary>Pictures to classify as an unlabelled dataset, so <see cref="Dataset.PadTo"/> centres them as it centred the training images.</summary>
    sealed class Pictures(IReadOnlyList<float[]> images, int[] shape) : Dataset
    {
        public override int Count => images.Count;
        public override IReadOnlyList<int> SampleShape => shape;
        public override IReadOnlyList<string> Classes => [];
        public override int Label(int index) => throw new NotSupportedException("pictures to classify have no labels.");
        public override void ReadImage(int index, Span<float> destination) => images[index].CopyTo(destination);
    }
}
