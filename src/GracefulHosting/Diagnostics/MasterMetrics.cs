using System.Diagnostics.Metrics;

namespace GracefulHosting.Diagnostics;

// OpenTelemetry collects it with AddMeter("GracefulHosting").
internal sealed class MasterMetrics : IDisposable
{
    public const string MeterName = "GracefulHosting";

    private readonly Meter _meter;
    private readonly Counter<long> _restarts;
    private readonly Counter<long> _rollbacks;
    private readonly Counter<long> _crashes;
    private readonly Histogram<double> _restartDuration;
    private int _generation;

    public MasterMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _restarts = _meter.CreateCounter<long>("gracefulhosting.restarts", "{restart}", "Restarts that put a new generation in service.");
        _rollbacks = _meter.CreateCounter<long>("gracefulhosting.rollbacks", "{rollback}", "Restarts rolled back because the new generation did not become ready.");
        _crashes = _meter.CreateCounter<long>("gracefulhosting.child_crashes", "{crash}", "Serving children that exited without being asked to.");
        _restartDuration = _meter.CreateHistogram<double>("gracefulhosting.restart.duration", "s", "Time from the restart signal until the new generation serves.");
        _meter.CreateObservableGauge("gracefulhosting.generation", () => Volatile.Read(ref _generation), "{generation}", "The generation that serves now.");
    }

    public void GenerationServing(int generation) => Volatile.Write(ref _generation, generation);

    public void RestartCompleted(TimeSpan duration)
    {
        _restarts.Add(1);
        _restartDuration.Record(duration.TotalSeconds);
    }

    public void RolledBack() => _rollbacks.Add(1);

    public void ChildCrashed() => _crashes.Add(1);

    public void Dispose() => _meter.Dispose();
}
