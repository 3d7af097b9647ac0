using System.Collections;
using System.Collections.Concurrent;
using OpenTelemetry.Metrics;

namespace TelemetryApp;

/// <summary>What the in-memory exporter received: the last value of each metric.</summary>
public sealed class ExportedMetrics : ICollection<Metric>
{
    private readonly ConcurrentDictionary<string, double> _values = new();

    public IReadOnlyDictionary<string, double> Values => _values;

    public int Count => _values.Count;

    public bool IsReadOnly => false;

    public void Add(Metric item)
    {
        ArgumentNullException.ThrowIfNull(item);
        foreach (ref readonly var point in item.GetMetricPoints())
        {
            _values[item.Name] = item.MetricType switch
            {
                MetricType.LongSum => point.GetSumLong(),
                MetricType.LongGauge => point.GetGaugeLastValueLong(),
                MetricType.DoubleSum => point.GetSumDouble(),
                MetricType.DoubleGauge => point.GetGaugeLastValueDouble(),
                MetricType.Histogram => point.GetHistogramCount(),
                _ => double.NaN,
            };
        }
    }

    public void Clear() => _values.Clear();

    public bool Contains(Metric item) => item is not null && _values.ContainsKey(item.Name);

    public void CopyTo(Metric[] array, int arrayIndex) => throw new NotSupportedException();

    public bool Remove(Metric item) => item is not null && _values.TryRemove(item.Name, out _);

    public IEnumerator<Metric> GetEnumerator() => Enumerable.Empty<Metric>().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Logs each exported value that changed. Runs in the master too (AddGracefulRestartMasterService).</summary>
public sealed partial class ExportReporter(ExportedMetrics exported, ILogger<ExportReporter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reported = new Dictionary<string, double>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        do
        {
            foreach (var (name, value) in exported.Values)
            {
                if (!reported.TryGetValue(name, out double last) || last != value)
                {
                    reported[name] = value;
                    LogExported(logger, name, value, Environment.ProcessId);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Exported {Name}={Value} in pid {Pid}")]
    private static partial void LogExported(ILogger logger, string name, double value, int pid);
}

/// <summary>The app's own background work: it must run in each generation, never in the master.</summary>
public sealed partial class Heartbeat(ILogger<Heartbeat> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, Environment.ProcessId);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Heartbeat started in pid {Pid}")]
    private static partial void LogStarted(ILogger logger, int pid);
}

/// <summary>A scoped service.</summary>
public sealed class RequestScope
{
    public Guid Id { get; } = Guid.NewGuid();
}
