using ConvKit.Fuzz;
using SharpFuzz;

// The fuzzing harness (docs/fuzzing.md). Usage:
//   ConvKit.Fuzz TARGET                  run under afl-fuzz (scripts/fuzz.sh): the input comes on stdin
//   ConvKit.Fuzz TARGET --replay FILE... run inputs once each and say what each did (to triage afl's crashes)
//   ConvKit.Fuzz --seeds DIR             write the small valid inputs the targets start from (fuzz/seeds/)
//   ConvKit.Fuzz --list                  the targets
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: ConvKit.Fuzz TARGET [--replay FILE...] | --seeds DIR | --list");
    return 2;
}
if (args[0] == "--list")
{
    foreach (var target in Targets.All) Console.WriteLine($"{target.Name,-12} {target.Description}");
    return 0;
}
if (args[0] == "--seeds")
{
    Seeds.Write(args.Length > 1 ? args[1] : "fuzz/seeds");
    return 0;
}
var chosen = Targets.All.FirstOrDefault(t => t.Name == args[0]);
if (chosen == null)
{
    Console.Error.WriteLine($"unknown target '{args[0]}'; the targets are {string.Join(", ", Targets.All.Select(t => t.Name))}.");
    return 2;
}
var workspace = Workspace.Create();
if (args.Length > 1 && args[1] == "--replay")
{
    // Instrumented assemblies write their coverage to SharpFuzz's map, which afl provides; give them one of its size.
    unsafe { SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16); }
    int crashes = 0;
    foreach (string file in args.Skip(2))
    {
        try
        {
            chosen.Run(File.ReadAllBytes(file), workspace);
            Console.WriteLine($"{file}: accepted");
        }
        catch (Exception e) when (chosen.Allows(e))
        {
            Console.WriteLine($"{file}: refused with {e.GetType().Name}: {e.Message}");
        }
        catch (Exception e)
        {
            crashes++;
            Console.WriteLine($"{file}: CRASH {e}");
        }
    }
    Directory.Delete(workspace.Root, recursive: true);
    return crashes == 0 ? 0 : 1;
}
// One process runs input after input; an exception other than the allowed ones is a crash. Out of process: SharpFuzz's
// fork server runs the inputs in a child it restarts when afl kills it (a hang) or it dies (a stack overflow).
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    try { chosen.Run(buffer.ToArray(), workspace); }
    catch (Exception e) when (chosen.Allows(e)) { }
});
return 0;
