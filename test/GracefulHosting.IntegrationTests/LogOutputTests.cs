using System.Text.RegularExpressions;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// What the master and its children write reaches the master's output line by line: each child writes
/// to pipes of its own and the master forwards whole lines, so lines written at the same moment by
/// several processes never splice.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class LogOutputTests(ITestOutputHelper output)
{
    private const int Writers = 3;
    private const int LinesPerProcess = 10_000;
    private const int LineLength = 300;
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task MasterAndTwoGenerationsWriteAtOnce_EveryLineArrivesWholeAndOnce()
    {
        using var temp = new TempDirectory();
        string gate = Path.Combine(temp.Path, "gate");
        var fifo = await ToolProcess.RunAsync("mkfifo", [gate], temp.Path, TimeSpan.FromSeconds(30));
        Assert.True(fifo.ExitCode == 0, fifo.Output);

        // Lines longer than the console writer's 256-character buffer take more than one write(2) each:
        // on a shared descriptor, those of different processes interleave.
        await using var master = MasterProcess.Start(app: "EndpointsApp", defaultEndpoint: false, output: output, arguments:
            ["--setup=use-urls", "--port=0", $"--flood-gate={gate}", $"--flood-lines={LinesPerProcess}", $"--flood-length={LineLength}",
             "--GracefulRestart:ExitTimeout=00:05:00"]);
        await master.WaitForReadyAsync(1, Generous);
        // Generation 1 stays, stopping, until its burst is written. The master runs at most two
        // generations at once (the next restart waits for the stopping one), so three processes write.
        master.Signal(Native.SIGHUP);
        await master.WaitForRestartAsync(2, Generous);

        var armed = new HashSet<int>();
        for (int i = 0; i < Writers; i++)
        {
            armed.Add(int.Parse((await master.WaitForLineAsync(@"Log flood armed \(pid (\d+)\)", Generous, skip: i)).Groups[1].Value,
                System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Contains(master.Pid, armed);
        Assert.Equal(Writers, armed.Count);

        // Every process waits in open() for a writer: opening the FIFO lets all of them go at once.
        await using (var open = new FileStream(gate, FileMode.Open, FileAccess.Write))
        {
            for (int i = 0; i < Writers; i++)
            {
                await master.WaitForLineAsync(@"Log flood done \(pid \d+\)", Generous, skip: i);
            }
        }

        var seen = armed.ToDictionary(pid => pid, _ => new bool[LinesPerProcess]);
        var broken = new List<string>();
        foreach (string line in master.Lines.Where(l => l.StartsWith("flood ", StringComparison.Ordinal) || l.Contains("xxxxxxxx", StringComparison.Ordinal)))
        {
            var match = FloodLine().Match(line);
            if (!match.Success || match.Groups[3].Length != LineLength
                || !seen.TryGetValue(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), out var lines)
                || Mark(lines, int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)))
            {
                broken.Add(line);
            }
        }

        var missing = seen.Select(pair => (Pid: pair.Key, Missing: pair.Value.Count(s => !s))).Where(p => p.Missing > 0).ToList();
        Assert.True(broken.Count == 0, $"{broken.Count} broken, merged or repeated line(s), such as:\n{string.Join('\n', broken.Take(5))}");
        Assert.True(missing.Count == 0, "Lines missing: " + string.Join(", ", missing.Select(p => $"pid {p.Pid}: {p.Missing}")));
    }

    /// <summary>Marks line <paramref name="number"/> as seen; true if it is out of range or was seen before.</summary>
    private static bool Mark(bool[] lines, int number)
    {
        if ((uint)number >= (uint)lines.Length || lines[number])
        {
            return true;
        }

        lines[number] = true;
        return false;
    }

    [GeneratedRegex(@"^flood (\d+) (\d+) (x+)$")]
    private static partial Regex FloodLine();
}
