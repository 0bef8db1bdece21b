using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// COCO (pycocotools COCOeval, bbox) and Pascal VOC AP on cases small enough to work out by hand; each expected number
/// is derived in the comments from the published definitions, not from the implementation. pycocotools divides by
/// tp + fp + 2⁻⁵², so its "1" is 1 − 2⁻⁵²/n: the tolerance absorbs that.
/// </summary>
public class DetectionMetricsTests
{
    const double Tol = 1e-12;

    static GroundTruthBox G(float x1, float y1, float x2, float y2, int cls = 0, int image = 0, bool crowd = false, bool difficult = false)
        => new(image, cls, x1, y1, x2, y2, crowd, difficult);

    static DetectedBox D(float x1, float y1, float x2, float y2, float score, int cls = 0, int image = 0)
        => new(image, cls, x1, y1, x2, y2, score);

    static DetectionEvaluator Evaluator(int classes, GroundTruthBox[] truths, DetectedBox[] detections)
    {
        var evaluator = new DetectionEvaluator(classes);
        evaluator.Add(truths, detections);
        return evaluator;
    }

    [Fact]
    public void PerfectDetections_ApIsOne()
    {
        // two images, two classes, small, medium and large boxes, every one detected exactly: precision 1 at every
        // recall, for every IoU threshold, area and class.
        GroundTruthBox[] truths =
        [
            G(0, 0, 20, 20), G(100, 0, 150, 50, cls: 1), G(200, 0, 300, 100),
            G(0, 0, 30, 30, cls: 1, image: 1), G(50, 50, 150, 150, image: 1),
        ];
        var detections = truths.Select((g, i) => D(g.X1, g.Y1, g.X2, g.Y2, 0.9f - 0.1f * i, g.Class, g.Image)).ToArray();
        var evaluator = Evaluator(2, truths, detections);
        var coco = evaluator.Coco();
        // every number is 1 except AR@1: one detection per image and class finds 1 of the 2 class-0 boxes of image 0,
        // so class 0's recall is 2/3 (with image 1's box), class 1's is 1: mean 5/6.
        var stats = coco.Stats;
        for (int i = 0; i < stats.Length; i++) Assert.Equal(i == 6 ? 5.0 / 6 : 1, stats[i], Tol);
        Assert.Equal(1, evaluator.Voc().Map, Tol);
        Assert.Equal(1, evaluator.Voc(interpolation: VocInterpolation.ElevenPoint).Map, Tol);
    }

    [Fact]
    public void TwoTruthsThreeDetections_HandComputed()
    {
        // ground truths A and B (10×10, small); detections A (0.9), a duplicate of A (0.8), B (0.7), all at IoU 1.
        // In score order: TP, FP (A is taken; the duplicate overlaps B not at all), TP.
        //   cumulative tp = 1, 1, 2; fp = 0, 1, 1; recall = 1/2, 1/2, 1; precision = 1, 1/2, 2/3.
        // COCO: envelope from the right = 1, 2/3, 2/3. Recall points 0, .01, …, .50 (51 of them) first reach a recall
        //   ≥ t at detection 1 → 1; the 50 points .51 … 1 first at detection 3 → 2/3.
        //   AP = (51·1 + 50·2/3) / 101 = (253/3) / 101 = 253/303, at every IoU threshold (all IoUs are 1).
        //   AR@1: one detection per image and class → recall 1/2; AR@10 = AR@100 = 1.
        // VOC all-point: mrec = 0, 1/2, 1/2, 1, 1; mpre = 0, 1, 1/2, 2/3, 0 → envelope 1, 1, 2/3, 2/3, 0;
        //   recall changes 0 → 1/2 (× 1) and 1/2 → 1 (× 2/3): AP = 1/2 + 1/3 = 5/6.
        // VOC 11-point: t = 0 … 0.5 (6 points) → max precision at recall ≥ t = 1; t = 0.6 … 1 (5 points) → only the
        //   third detection, 2/3: AP = (6 + 10/3) / 11 = 28/33.
        var evaluator = Evaluator(1,
            [G(0, 0, 10, 10), G(20, 0, 30, 10)],
            [D(0, 0, 10, 10, 0.9f), D(0, 0, 10, 10, 0.8f), D(20, 0, 30, 10, 0.7f)]);
        var coco = evaluator.Coco();
        Assert.Equal(253.0 / 303, coco.Ap, Tol);
        Assert.Equal(253.0 / 303, coco.Ap50, Tol);
        Assert.Equal(253.0 / 303, coco.Ap75, Tol);
        Assert.Equal(253.0 / 303, coco.ApSmall, Tol);
        Assert.True(double.IsNaN(coco.ApMedium) && double.IsNaN(coco.ApLarge), "no medium or large ground truth: NaN (pycocotools −1)");
        Assert.Equal(0.5, coco.Ar1, Tol);
        Assert.Equal(1, coco.Ar10, Tol);
        Assert.Equal(1, coco.ArMax, Tol);
        Assert.Equal(253.0 / 303, coco.ClassAp[0], Tol);
        var curve = coco.PrecisionAt50[0]!;
        Assert.Equal(101, curve.Length);
        for (int i = 0; i < 101; i++) Assert.Equal(i <= 50 ? 1 : 2.0 / 3, curve[i], Tol);
        Assert.Equal(0.51, CocoResult.RecallThresholds[51], 1e-15);

        Assert.Equal(5.0 / 6, evaluator.Voc().Map, Tol);
        Assert.Equal(28.0 / 33, evaluator.Voc(interpolation: VocInterpolation.ElevenPoint).Map, Tol);
    }

    [Fact]
    public void DetectionAtIou06_CountsAtThresholdsUpTo060()
    {
        // ground truth (0,0,10,10), detection (0,0,6,10): IoU = 60 / 100 = 0.6 exactly in float64, and pycocotools'
        // third threshold linspace(.5, .95, 10)[2] = 2·(0.45/9) + 0.5 is 0.6 too, so ≥ holds at .50, .55, .60.
        // There the lone detection is a TP: AP 1; at .65 … .95 (7 thresholds) an FP: recall 0 everywhere, AP 0.
        // AP@[.5:.95] = 3/10 · AP50 = 0.3; AR@100 = mean recall over thresholds = 3/10 as well.
        var evaluator = Evaluator(1, [G(0, 0, 10, 10)], [D(0, 0, 6, 10, 0.9f)]);
        var coco = evaluator.Coco();
        Assert.Equal(1, coco.Ap50, Tol);
        Assert.Equal(0, coco.Ap75, Tol);
        Assert.Equal(0.3, coco.Ap, Tol);
        Assert.Equal(0.3 * coco.Ap50, coco.Ap, Tol);
        Assert.Equal(0.3, coco.ArMax, Tol);
        // VOC: ≥ the threshold counts, so 0.6 passes at 0.6 and fails at 0.61.
        Assert.Equal(1, evaluator.Voc(0.6).Map, Tol);
        Assert.Equal(0, evaluator.Voc(0.61).Map, Tol);
    }

    [Fact]
    public void ScoreTies_KeepTheOrderOfAddition()
    {
        // One ground truth; a miss and a hit with the same score 0.5.
        // Miss first: tp = 0, 1; fp = 1, 1; recall 0, 1; precision 0, 1/2 → envelope 1/2, 1/2; every recall point
        //   gets 1/2: COCO AP50 = 1/2. VOC: mrec 0, 0, 1, 1; envelope 1/2 over the 0 → 1 change: AP = 1/2.
        // Hit first: recall 1, 1; precision 1, 1/2 → envelope 1, 1/2; every point reaches recall at detection 1 → 1.
        var miss = D(50, 50, 60, 60, 0.5f);
        var hit = D(0, 0, 10, 10, 0.5f);
        var missFirst = Evaluator(1, [G(0, 0, 10, 10)], [miss, hit]);
        var hitFirst = Evaluator(1, [G(0, 0, 10, 10)], [hit, miss]);
        Assert.Equal(0.5, missFirst.Coco().Ap50, Tol);
        Assert.Equal(0.5, missFirst.Voc().Map, Tol);
        Assert.Equal(1, hitFirst.Coco().Ap50, Tol);
        Assert.Equal(1, hitFirst.Voc().Map, Tol);

        // Across images a tie goes to the lower image number (pycocotools' sorted image ids), whatever the order of
        // addition: the miss in image 0 comes before the hit in image 1 → 1/2 again.
        var acrossImages = new DetectionEvaluator(1);
        acrossImages.Add([G(0, 0, 10, 10, image: 1)], [D(0, 0, 10, 10, 0.5f, image: 1)]);
        acrossImages.Add([], [D(0, 0, 10, 10, 0.5f, image: 0)]);
        Assert.Equal(0.5, acrossImages.Coco().Ap50, Tol);
        Assert.Equal(0.5, acrossImages.Voc().Map, Tol);
    }

    [Fact]
    public void MaxDetections_CutPerImageAndClass()
    {
        // One ground truth; misses at 0.9 and 0.8, the hit at 0.7; and two class-1 detections at 0.99 in the same
        // image, which pycocotools cuts separately (class 1 has no ground truth, so it is out of the means).
        // All kept: tp = 0, 0, 1; fp = 1, 2, 2; recall 0, 0, 1; precision 0, 0, 1/3 → envelope 1/3 everywhere:
        //   AP = 1/3. AR@1 keeps only the 0.9 miss → 0; AR@10 = 1.
        // maxDetections 3: the class-1 boxes do not use class 0's budget → still 1/3.
        // maxDetections 2: only the two misses → AP 0, AR 0.
        var evaluator = Evaluator(2, [G(0, 0, 10, 10)],
        [
            D(50, 50, 60, 60, 0.9f), D(70, 70, 80, 80, 0.8f), D(0, 0, 10, 10, 0.7f),
            D(0, 0, 10, 10, 0.99f, cls: 1), D(20, 20, 30, 30, 0.99f, cls: 1),
        ]);
        var all = evaluator.Coco();
        Assert.Equal(1.0 / 3, all.Ap, Tol);
        Assert.Equal(0, all.Ar1, Tol);
        Assert.Equal(1, all.Ar10, Tol);
        Assert.Equal(1.0 / 3, evaluator.Coco(3).Ap, Tol);
        var two = evaluator.Coco(2);
        Assert.Equal(0, two.Ap, Tol);
        Assert.Equal(0, two.ArMax, Tol);
        Assert.Equal(2, two.MaxDetections);
    }

    [Fact]
    public void AreaRanges_SmallMediumLarge()
    {
        // Ground truths 20×20 (area 400 ≤ 32²: small), 50×50 (2,500 in [32², 96²]: medium), 100×100 (10,000 > 96²:
        // large), each detected exactly (0.9, 0.8, 0.7), and a 20×20 miss at 0.95.
        // all: FP, TP, TP, TP → precision 0, 1/2, 2/3, 3/4, recall 0, 1/3, 2/3, 1 → envelope 3/4 everywhere: AP 3/4.
        // small: the medium and large ground truths are ignored, and so are the detections matching them; the miss
        //   is small, so it counts: FP, TP → envelope 1/2: AP 1/2.
        // medium: the small hit matches an ignored ground truth, the unmatched miss is outside the range: both
        //   ignored; the medium hit is the only counted detection: AP 1. large likewise: AP 1.
        var evaluator = Evaluator(1,
            [G(0, 0, 20, 20), G(100, 0, 150, 50), G(200, 0, 300, 100)],
            [D(0, 200, 20, 220, 0.95f), D(0, 0, 20, 20, 0.9f), D(100, 0, 150, 50, 0.8f), D(200, 0, 300, 100, 0.7f)]);
        var coco = evaluator.Coco();
        Assert.Equal(0.75, coco.Ap, Tol);
        Assert.Equal(0.5, coco.ApSmall, Tol);
        Assert.Equal(1, coco.ApMedium, Tol);
        Assert.Equal(1, coco.ApLarge, Tol);
        Assert.Equal(1, coco.ArSmall, Tol);
        Assert.Equal(1, coco.ArMedium, Tol);
        Assert.Equal(1, coco.ArLarge, Tol);
    }

    [Fact]
    public void CrowdGroundTruth_AbsorbsDetectionsWithoutPenalty()
    {
        // A normal ground truth (0,0,10,10) and a crowd region (100,100,200,200). Detections: 20×20 inside the crowd
        // at 0.95, the hit at 0.9, another 20×20 inside at 0.8, the whole region at 0.7.
        // Crowd IoU = intersection / detection area = 1 for each box inside: all three match the crowd (which can be
        // matched any number of times) and are ignored; the crowd is not counted. AP = 1, AR = 1.
        // Without the crowd flag the region is a plain large ground truth: the small boxes inside have IoU
        //   400 / 10,000 = 0.04 → FP; order FP, TP, FP, TP: precision 0, 1/2, 1/3, 1/2, recall 0, 1/2, 1/2, 1 →
        //   envelope 1/2 everywhere: AP50 = 1/2.
        DetectedBox[] detections = [D(110, 110, 130, 130, 0.95f), D(0, 0, 10, 10, 0.9f), D(150, 150, 170, 170, 0.8f), D(100, 100, 200, 200, 0.7f)];
        var crowd = Evaluator(1, [G(0, 0, 10, 10), G(100, 100, 200, 200, crowd: true)], detections).Coco();
        Assert.Equal(1, crowd.Ap, Tol);
        Assert.Equal(1, crowd.ArMax, Tol);
        Assert.True(double.IsNaN(crowd.ApLarge), "a crowd is not a counted ground truth, so large has none");
        var plain = Evaluator(1, [G(0, 0, 10, 10), G(100, 100, 200, 200)], detections).Coco();
        Assert.Equal(0.5, plain.Ap50, Tol);
    }

    [Fact]
    public void Crowd_TakenOnlyWhenNoCountedTruthMatches()
    {
        // Ground truth N (0,0,10,10) inside a crowd C (0,0,100,100); one detection (0,0,8.2,10): IoU(N) ≈ 0.82,
        // crowd IoU(C) = 82/82 = 1. pycocotools keeps a match with a counted ground truth over a better ignored one,
        // so at thresholds .50 … .80 (7) the detection takes N: AP 1. At .85 … .95 N is out of reach, the detection
        // takes C and is ignored; N stays unfound: recall 0, AP 0. AP@[.5:.95] = 7/10, AR = 7/10.
        var coco = Evaluator(1, [G(0, 0, 10, 10), G(0, 0, 100, 100, crowd: true)], [D(0, 0, 8.2f, 10, 0.9f)]).Coco();
        Assert.Equal(1, coco.Ap50, Tol);
        Assert.Equal(0.7, coco.Ap, Tol);
        Assert.Equal(0.7, coco.ArMax, Tol);
    }

    [Fact]
    public void VocDifficult_NeitherCountedNorPenalised()
    {
        // A normal (0,0,10,10), B difficult (20,0,30,10).
        // Detections A (0.9) and a miss (0.8): npos = 1; recall 1, 1; precision 1, 1/2 → AP 1 (B not counted).
        // Adding a detection of B (0.85): it is ignored (tp and fp unchanged) → still AP 1.
        // With B normal and no detection of it: npos = 2, recall 1/2, 1/2, precision 1, 1/2 → all-point
        //   1/2 · 1 = 1/2.
        // COCO does not read Difficult: B counts, recall 1/2 → recall points ≤ .50 get 1, the rest 0: AP50 = 51/101.
        GroundTruthBox[] truths = [G(0, 0, 10, 10), G(20, 0, 30, 10, difficult: true)];
        var twoDetections = Evaluator(1, truths, [D(0, 0, 10, 10, 0.9f), D(50, 50, 60, 60, 0.8f)]);
        Assert.Equal(1, twoDetections.Voc().Map, Tol);
        Assert.Equal(1, twoDetections.Voc(interpolation: VocInterpolation.ElevenPoint).Map, Tol);
        Assert.Equal(51.0 / 101, twoDetections.Coco().Ap50, Tol);
        var withB = Evaluator(1, truths, [D(0, 0, 10, 10, 0.9f), D(20, 0, 30, 10, 0.85f), D(50, 50, 60, 60, 0.8f)]);
        Assert.Equal(1, withB.Voc().Map, Tol);
        var notDifficult = Evaluator(1, [G(0, 0, 10, 10), G(20, 0, 30, 10)], [D(0, 0, 10, 10, 0.9f), D(50, 50, 60, 60, 0.8f)]);
        Assert.Equal(0.5, notDifficult.Voc().Map, Tol);
    }

    [Fact]
    public void Duplicates_VocFalsePositive_CocoTakesTheNextTruth()
    {
        // A (0,0,10,10) and B (2,0,12,10). Detections: A exactly (0.9), then (0.5,0,10.5,10) at 0.8 with
        // IoU(A) = 95/105 ≈ 0.905 and IoU(B) = 85/115 ≈ 0.739.
        // VOC takes the best-overlapping ground truth, A, already taken → FP: recall 1/2, 1/2, precision 1, 1/2 →
        //   AP = 1/2.
        // COCO takes the best ground truth not yet taken: B while the threshold ≤ 0.739 (.50 … .70, 5 thresholds) →
        //   AP 1 there; from .75 on it is an FP: recall 1/2, 1/2, precision 1, 1/2 → points ≤ .50 get 1: 51/101.
        //   AP@[.5:.95] = (5 + 5·51/101) / 10 = 76/101.
        var evaluator = Evaluator(1, [G(0, 0, 10, 10), G(2, 0, 12, 10)], [D(0, 0, 10, 10, 0.9f), D(0.5f, 0, 10.5f, 10, 0.8f)]);
        Assert.Equal(0.5, evaluator.Voc().Map, Tol);
        var coco = evaluator.Coco();
        Assert.Equal(1, coco.Ap50, Tol);
        Assert.Equal(51.0 / 101, coco.Ap75, Tol);
        Assert.Equal(76.0 / 101, coco.Ap, Tol);
    }

    [Fact]
    public void ClassWithoutGroundTruth_IsLeftOutOfTheMean()
    {
        // class 0 perfect (AP 1), class 1 only a false detection, class 2 nothing: the mean is over class 0 alone.
        var evaluator = Evaluator(3, [G(0, 0, 10, 10)], [D(0, 0, 10, 10, 0.9f), D(0, 0, 10, 10, 0.8f, cls: 1)]);
        var coco = evaluator.Coco();
        Assert.Equal(1, coco.Ap, Tol);
        Assert.Equal(1, coco.ClassAp[0], Tol);
        Assert.True(double.IsNaN(coco.ClassAp[1]) && double.IsNaN(coco.ClassAp[2]));
        Assert.True(double.IsNaN(coco.ClassAp50[1]));
        Assert.Null(coco.PrecisionAt50[1]);
        var voc = evaluator.Voc();
        Assert.Equal(1, voc.Map, Tol);
        Assert.True(double.IsNaN(voc.ClassAp[1]) && double.IsNaN(voc.ClassAp[2]));
    }

    [Fact]
    public void EmptyInputs()
    {
        // Nothing at all: no class has ground truth → every mean is NaN (pycocotools prints −1).
        var nothing = new DetectionEvaluator(2);
        Assert.All(nothing.Coco().Stats, value => Assert.True(double.IsNaN(value)));
        Assert.True(double.IsNaN(nothing.Voc().Map));
        // Ground truth and no detections: recall 0 everywhere → AP 0, AR 0.
        var missed = Evaluator(1, [G(0, 0, 10, 10)], []);
        Assert.Equal(0.0, missed.Coco().Ap);
        Assert.Equal(0.0, missed.Coco().ArMax);
        Assert.Equal(0.0, missed.Voc().Map);
        Assert.Equal(0.0, missed.Voc(interpolation: VocInterpolation.ElevenPoint).Map);
        // Detections and no ground truth: NaN again.
        var unfounded = Evaluator(1, [], [D(0, 0, 10, 10, 0.9f)]);
        Assert.True(double.IsNaN(unfounded.Coco().Ap));
        Assert.True(double.IsNaN(unfounded.Voc().Map));
    }

    [Fact]
    public void BadInput_NamesTheBox()
    {
        var evaluator = new DetectionEvaluator(2);
        var reversed = Assert.Throws<ArgumentException>(() => evaluator.Add([G(0, 0, 10, 10), G(10, 0, 5, 10)], []));
        Assert.Contains("ground truth 1", reversed.Message);
        Assert.Contains("x2 < x1", reversed.Message);
        var nan = Assert.Throws<ArgumentException>(() => evaluator.Add([], [D(0, 0, 1, 1, 0.5f), D(0, 0, 10, 10, float.NaN)]));
        Assert.Contains("detection 1", nan.Message);
        Assert.Contains("NaN", nan.Message);
        var tooHigh = Assert.Throws<ArgumentException>(() => evaluator.Add([], [D(0, 0, 10, 10, 0.5f, cls: 2)]));
        Assert.Contains("detection 0", tooHigh.Message);
        Assert.Contains("class 2", tooHigh.Message);
        var negative = Assert.Throws<ArgumentException>(() => evaluator.Add([G(0, 0, 10, 10, cls: -1)], []));
        Assert.Contains("ground truth 0", negative.Message);
        var infinite = Assert.Throws<ArgumentException>(() => evaluator.Add([G(0, 0, float.PositiveInfinity, 10)], []));
        Assert.Contains("finite", infinite.Message);
        // nothing from the rejected calls was kept (the good boxes before the bad ones included)
        Assert.All(evaluator.Coco().Stats, value => Assert.True(double.IsNaN(value)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectionEvaluator(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => evaluator.Coco(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => evaluator.Voc(0));
    }
}
