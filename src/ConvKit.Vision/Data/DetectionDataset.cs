using ConvKit.Data;

namespace ConvKit.Vision.Data;

/// <summary>
/// What the annotation-format readers share: pictures whose boxes were parsed and checked when the dataset was made,
/// decoded when a sample is read, with the boxes in the format the annotation declares (see each reader).
/// </summary>
public abstract class DetectionDataset : Dataset
{
    readonly int channels;

    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    private protected DetectionDataset(int channels)
    {
        AnnotationChecks.CheckChannels(channels, GetType().Name);
        this.channels = channels;
    }

    private protected AnnotatedPicture[] Pictures { get; init; } = [];
    private protected string[] ClassNames { get; init; } = [];

    /// <inheritdoc/>
    public override int Count => Pictures.Length;
    /// <inheritdoc/>
    public override IReadOnlyList<string> Classes => ClassNames;
    /// <inheritdoc/>
    public override bool HasTargets => true;

    /// <summary>The picture file of sample <paramref name="index"/>.</summary>
    public string PathOf(int index)
    {
        CheckIndex(index);
        return Pictures[index].ImagePath;
    }

    /// <summary>The picture (C, H, W) with its boxes; their canvas is the picture's H × W.</summary>
    public override Sample GetSample(int index)
    {
        CheckIndex(index);
        return Pictures[index].Load(channels);
    }
}
