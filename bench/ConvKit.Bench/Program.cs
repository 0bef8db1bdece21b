// ConvKit benchmarks: each suite measures ConvKit and its peer in the same run and prints a Markdown table.
// Usage: dotnet run -c Release --project bench/ConvKit.Bench -- [gemm|autograd|pool|optim|conv|depthwise|zoo|train|onnx|onnx-zoo|style|segment|boxes|proposals|detect|localize|sliding|facetrain|faces|all]
// onnx-zoo (also part of onnx) takes [MODEL...] (torchvision names, segmentation and detection ones too; four small classifiers by default): ... -- onnx-zoo convnext_tiny ssdlite320_mobilenet_v3_large
//   and --parity to compare outputs without timing them
// segment takes [EPOCHS=8] [LIMIT] after the suite's name: dotnet run -c Release --project bench/ConvKit.Bench -- segment 1 256
// proposals takes [SCENES=200]: dotnet run -c Release --project bench/ConvKit.Bench -- proposals 200
// detect takes [EPOCHS=30] [SCENES=6000] and runs only when named (hours at its defaults): ... -- detect 2 600
// detect-score DATA CHECKPOINT CONVKIT_PEAK_MB TORCH_DETECTIONS TORCH_LOG [CONVKIT_THREADS] [TORCH_THREADS]: the detect report for two runs made side by side
// localize takes [EPOCHS=8] [TRAIN=20000] [TEST=2000] [LR=2e-3] [BOXWEIGHT=2] and runs only when named: ... -- localize
// sliding takes [PICTURES=4] [TRAIN=6000]: ... -- sliding 4
// memory224 takes [BATCH=32] [STEPS=2] and runs only when named (peak memory of VGG-11 and ResNet-18 training at 224×224): ... -- memory224
// facetrain takes [EPOCHS=6] [LIMIT] and runs only when named (tens of minutes): ... -- facetrain 1 6000
// rcnn takes [EPOCHS=3] [LIMIT=600] [MODELS=yolo-small,rcnn,fast-rcnn,faster-rcnn] and runs only when named: ... -- rcnn 3 600
// rcnn-onnx takes CHECKPOINT [PICTURES=1000] (a faster-rcnn best.safetensors): ConvKit against its whole-detector ONNX export in ONNX Runtime
using ConvKit.Bench;

string suite = args.Length > 0 ? args[0] : "all";
if (suite is "train-worker")
{
    TrainBench.Worker(int.Parse(args[1]));
    return;
}
if (suite is "memory224-worker")
{
    Memory224Bench.Worker(args[1], int.Parse(args[2]), int.Parse(args[3]), int.Parse(args[4]));
    return;
}
if (suite is "style-worker")
{
    StyleBench.Worker(args.Length > 1 ? int.Parse(args[1]) : null);
    return;
}
Console.WriteLine($"CPU: {Machine.CpuModel}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
if (suite is "gemm" or "all") GemmBench.Run();
if (suite is "autograd" or "all") AutogradBench.Run();
if (suite is "pool" or "all") PoolBench.Run();
if (suite is "optim" or "all") OptimBench.Run();
if (suite is "conv" or "all") ConvBench.Run();
if (suite is "depthwise" or "all") DepthwiseBench.Run();
if (suite is "zoo" or "all") ZooBench.Run();
if (suite is "train" or "all") TrainBench.Run();
if (suite is "onnx" or "all") OnnxBench.Run();
if (suite is "onnx" or "onnx-zoo" or "all") OnnxZooBench.Run(suite is "onnx-zoo" ? args[1..] : []);
if (suite is "style" or "all") StyleBench.Run();
if (suite is "boxes" or "all") BoxBench.Run();
if (suite is "segment" or "all") SegmentBench.Run(suite is "segment" ? args[1..] : []);
if (suite is "proposals" or "all") ProposalBench.Run(suite is "proposals" ? args[1..] : []);
if (suite is "detect") DetectBench.Run(args[1..]);
if (suite is "detect-score") DetectBench.Score(args[1..]);
if (suite is "localize") LocalizeBench.Run(args[1..]);
if (suite is "sliding" or "all") SlidingBench.Run(suite is "sliding" ? args[1..] : []);
if (suite is "facetrain") FaceTrainBench.Run(args[1..]);
if (suite is "faces" or "all") FaceBench.Run();
if (suite is "rcnn") RcnnBench.Run(args[1..]);
if (suite is "rcnn-onnx") RcnnOnnxBench.Run(args[1..]);
if (suite is "memory224") Memory224Bench.Run(args[1..]);
