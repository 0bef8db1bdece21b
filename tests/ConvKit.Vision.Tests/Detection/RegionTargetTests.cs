using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// Labelling proposals and anchors by IoU (<see cref="RegionMatcher"/>) and drawing the training minibatch
/// (<see cref="RegionSampler"/>, <see cref="RegionHeadTargets"/>) on hand-computed cases.
/// </summary>
public class RegionTargetTests
{
    // Ground truth: a 10×10 box at the origin (area 100) and a 20×10 box at x 50.
    static readonly float[] Truths = [0, 0, 10, 10, 50, 0, 70, 10];

    [Fact]
    public void RpnAnchorsAreLabelledByTheSevenTenthsAndThreeTenthsBands()
    {
        float[] anchors =
        [
            0, 0, 10, 8,      // IoU 80/100 = 0.8 with truth 0: foreground
            0, 0, 10, 5,      // IoU 0.5: between the bands, ignored
            0, 0, 10, 2,      // IoU 0.2: background
            50, 0, 60, 10,    // IoU 100/200 = 0.5 with truth 1, its best anchor: foreground by KeepBestMatches
            100, 100, 110, 110, // IoU 0: background
            0, 0, 10, 10,     // IoU 1 with truth 0
        ];
        var rpn = new RegionMatcher(0.7f, 0.3f, 0, KeepBestMatches: true);
        Assert.Equal([0, RegionMatcher.Ignored, RegionMatcher.Background, 1, RegionMatcher.Background, 0], rpn.Match(anchors, Truths));
        // Without keeping the best matches, truth 1's only anchor (IoU 0.5) is ignored.
        Assert.Equal(RegionMatcher.Ignored, (rpn with { KeepBestMatches = false }).Match(anchors, Truths)[3]);
        // A box that no anchor touches (best IoU 0) makes no anchor foreground.
        Assert.Equal([RegionMatcher.Background, RegionMatcher.Background], rpn.Match([0, 0, 10, 10, 20, 0, 30, 10], [100, 100, 110, 110]));
    }

    [Fact]
    public void HeadProposalsFollowThePapersBackgroundBand()
    {
        float[] proposals =
        [
            0, 0, 10, 5,      // IoU 0.5 exactly: foreground (≥ 0.5)
            0, 0, 10, 4,      // IoU 0.4: background, in [0.1, 0.5)
            0, 0, 10, 1,      // IoU 0.1 exactly: background (the band's low end is included)
            0, 0, 10, 0.5f,   // IoU 0.05: below 0.1, ignored
            60, 0, 70, 10,    // IoU 0.5 with truth 1: foreground, matched to truth 1
        ];
        var matches = RegionHeadTargets.PaperMatcher.Match(proposals, Truths);
        Assert.Equal([0, RegionMatcher.Background, RegionMatcher.Background, RegionMatcher.Ignored, 1], matches);
        // A picture without ground truth: everything is background (there is nothing to overlap).
        Assert.All(RegionHeadTargets.PaperMatcher.Match(proposals, []), m => Assert.Equal(RegionMatcher.Background, m));
        Assert.Contains("0 ≤ low (0.6)", Assert.Throws<ArgumentException>(() => new RegionMatcher(0.5f, 0.5f, 0.6f).Match(proposals, Truths)).Message);
    }

    [Fact]
    public void TheSamplerDrawsAtMostItsForegroundShareAndFillsWithBackground()
    {
        // 10 foreground, 50 background, 40 ignored.
        var matches = Enumerable.Range(0, 100).Select(i => i < 10 ? i % 2 : i < 60 ? RegionMatcher.Background : RegionMatcher.Ignored).ToArray();
        var random = new Random(3);
        var (foreground, background) = new RegionSampler(32, 0.25f).Sample(matches, random);
        Assert.Equal(8, foreground.Length);                     // ⌊32 · ¼⌋
        Assert.Equal(24, background.Length);
        Assert.All(foreground, i => Assert.True(matches[i] >= 0));
        Assert.All(background, i => Assert.Equal(RegionMatcher.Background, matches[i]));
        Assert.Equal(foreground.Length, foreground.Distinct().Count());
        Assert.Equal(background.Length, background.Distinct().Count());

        // Too few foreground: all of it, and background fills the batch; too few of both: everything there is.
        var (allForeground, moreBackground) = new RegionSampler(40, 0.5f).Sample(matches, random);
        Assert.Equal(10, allForeground.Length);
        Assert.Equal(30, moreBackground.Length);
        var (f, b) = new RegionSampler(256, 0.5f).Sample(matches, random);
        Assert.Equal((10, 50), (f.Length, b.Length));
        Assert.Contains("BatchSize must be at least 1", Assert.Throws<ArgumentException>(() => new RegionSampler(0, 0.5f).Sample(matches, random)).Message);
    }

    [Fact]
    public void HeadTargetsAddTheGroundTruthAndCodeTheForegroundBoxes()
    {
        float[] proposals = [2, 0, 12, 10, 0, 0, 10, 4];   // IoU 80/120 = 0.67 with truth 0 (foreground); IoU 0.4 (background)
        var targets = RegionHeadTargets.Sample(proposals, Truths, [3, 7], RegionHeadTargets.PaperMatcher, new RegionSampler(64, 0.5f), new Random(1));
        // Foreground: the shifted proposal and both ground-truth boxes; background: the thin proposal.
        Assert.Equal(4, targets.Labels.Length);
        Assert.Equal([0, 4, 4, 8], targets.Labels.Order());
        int shifted = Enumerable.Range(0, 4).Single(k => targets.Regions[4 * k] == 2);
        Assert.Equal(4, targets.Labels[shifted]);
        // (10, 10, 5, 5)·(Δx/w, Δy/h, log(w'/w), log(h'/h)) with centre 7 → 5 on a 10-wide box: dx = 10·(−2/10) = −2.
        Assert.Equal([-2f, 0, 0, 0], targets.Deltas.AsSpan(4 * shifted, 4).ToArray());
        int thin = Array.IndexOf(targets.Labels, 0);
        Assert.Equal([0f, 0, 0, 0], targets.Deltas.AsSpan(4 * thin, 4).ToArray());
    }
}
