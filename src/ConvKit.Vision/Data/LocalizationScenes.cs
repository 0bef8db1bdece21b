using ConvKit.Data;

namespace ConvKit.Vision.Data;

/// <summary>How <see cref="LocalizationScenes"/> lays out its scenes.</summary>
public sealed record LocalizationScenesOptions
{
    /// <summary>The side of the square canvas, in pixels; it must hold the largest item, round(28·<see cref="MaxScale"/>).</summary>
    public int CanvasSize { get; init; } = 64;
    /// <summary>Smallest item scale: an item's side is round(28·scale) pixels.</summary>
    public double MinScale { get; init; } = 1.0;
    /// <summary>Largest item scale.</summary>
    public double MaxScale { get; init; } = 1.75;
    /// <summary>The share of scenes left empty (pc = 0), in [0, 1]: each scene is empty with this probability.</summary>
    public double EmptyFraction { get; init; } = 0.1;
    /// <summary>Keys every scene's random stream, with the split and the scene's index.</summary>
    public int Seed { get; init; } = 2026;
}

/// <summary>
/// Single-item scenes for classification with localisation: each is a black canvas holding one Fashion-MNIST
/// photograph at a random scale and place (its box tight around the visible silhouette, as <see cref="FashionScenes"/>
/// draws them), or — with probability <see cref="LocalizationScenesOptions.EmptyFraction"/> — nothing at all.
/// <list type="bullet">
/// <item>Splits: a set made from Fashion-MNIST's training pictures is the training split, from its test pictures the
/// test split; the split keys the random stream, so the two never share a picture.</item>
/// <item>Deterministic: scene i is a pure function of (seed, split, i) — whether it is empty from
/// <c>Generator.For(seed, 3 or 4, i)</c>, the item from <see cref="FashionScenes.Make"/>'s rules with one item —, made
/// when asked for, so the set needs no memory of its own and any scene can be regenerated alone.</item>
/// <item>Samples: image (1, S, S) in [0, 1]; <see cref="Sample.Boxes"/> xyxy pixels holding the item's box labelled
/// with its class, or no box. No class label, since empty scenes have none: <see cref="Detection.LocalizationTarget"/>
/// makes the target from the boxes.</item>
/// </list>
/// </summary>
public sealed class LocalizationScenes : Dataset
{
    readonly Dataset source;
    readonly FashionScenesOptions sceneOptions;
    readonly int sourceCount, sourceHeight, sourceWidth;
    readonly int[] shape;

    /// <param name="source">Fashion-MNIST's pictures of the split (<c>IdxDatasets.FashionMnist(train)</c>), or any grey (1, h, w) set</param>
    /// <param name="train">which split the scenes belong to (it keys the random stream)</param>
    /// <param name="count">the number of scenes</param>
    public LocalizationScenes(Dataset source, bool train, int count, LocalizationScenesOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Options = options ?? new LocalizationScenesOptions();
        if (!(Options.EmptyFraction is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), Options.EmptyFraction, $"LocalizationScenesOptions.EmptyFraction must be in [0, 1], not {Options.EmptyFraction}.");
        sceneOptions = new FashionScenesOptions
        {
            CanvasSize = Options.CanvasSize, MinItems = 1, MaxItems = 1, MinScale = Options.MinScale, MaxScale = Options.MaxScale,
            MaxOverlap = 1, TrainScenes = count, TestScenes = count, Seed = Options.Seed,
        };
        FashionScenes.Validate(sceneOptions);
        if (source.SampleShape is not [1, var height, var width] || source.Count == 0)
            throw new ArgumentException($"LocalizationScenes: the source must hold grey pictures (1, H, W), not {source.Count} of shape " +
                $"{(source.SampleShape is null ? "varying" : "(" + string.Join(", ", source.SampleShape) + ")")}.", nameof(source));
        (this.source, Train, Count) = (source, train, count);
        (sourceCount, sourceHeight, sourceWidth) = (source.Count, height, width);
        shape = [1, Options.CanvasSize, Options.CanvasSize];
    }

    /// <summary>
    /// The standard sets: <paramref name="trainCount"/> training scenes from Fashion-MNIST's training pictures and
    /// <paramref name="testCount"/> test scenes from its test pictures. A missing Fashion-MNIST throws
    /// <see cref="IdxDatasets"/>' <see cref="FileNotFoundException"/> (where it looked, how to install).
    /// </summary>
    /// <param name="fashionMnistDirectory">where the IDX files are, searched before the standard places</param>
    public static (LocalizationScenes Train, LocalizationScenes Test) FashionMnist(int trainCount = 16_000, int testCount = 2_000,
        LocalizationScenesOptions? options = null, string? fashionMnistDirectory = null) =>
        (new LocalizationScenes(IdxDatasets.FashionMnist(true, fashionMnistDirectory), true, trainCount, options),
         new LocalizationScenes(IdxDatasets.FashionMnist(false, fashionMnistDirectory), false, testCount, options));

    /// <summary>The layout of the scenes.</summary>
    public LocalizationScenesOptions Options { get; }
    /// <summary>Whether these are training scenes (from training pictures) or test scenes.</summary>
    public bool Train { get; }

    /// <inheritdoc/>
    public override int Count { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<int> SampleShape => shape;
    /// <inheritdoc/>
    public override IReadOnlyList<string> Classes => source.Classes;
    /// <inheritdoc/>
    public override bool HasTargets => true;

    /// <summary>Whether scene <paramref name="index"/> is left empty.</summary>
    public bool IsEmpty(int index)
    {
        CheckIndex(index);
        return Generator.For(Options.Seed, Train ? 3 : 4, index).NextDouble() < Options.EmptyFraction;
    }

    /// <summary>Scene <paramref name="index"/>: its picture and the item's box, or no box.</summary>
    public override Sample GetSample(int index)
    {
        int s = Options.CanvasSize;
        if (IsEmpty(index)) return new Sample(Tensor.Zeros(1, s, s)) { Boxes = BoundingBoxes.Empty(s, s) };
        var (picture, _, items) = FashionScenes.Compose(source, sourceCount, sourceHeight, sourceWidth, sceneOptions, Train, index);
        var boxes = items.SelectMany(item => new float[] { item.Box.X1, item.Box.Y1, item.Box.X2, item.Box.Y2 }).ToArray();
        return new Sample(Tensor.FromArray(Array.ConvertAll(picture, value => value / 255f), 1, s, s))
        {
            Boxes = new BoundingBoxes(boxes, items.Select(item => item.Class).ToArray(), BoxFormat.Xyxy, s, s),
        };
    }

    /// <inheritdoc/>
    public override void ReadImage(int index, Span<float> destination) => GetSample(index).Image.ToArray().CopyTo(destination);
}
