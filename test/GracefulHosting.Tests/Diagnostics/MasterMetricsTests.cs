using System.Diagnostics.Metrics;
using GracefulHosting.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulHosting.Tests.Diagnostics;

public class MasterMetricsTests
{
    [Fact]
    public void Instruments_RecordedEvents_SeenByMeterListener()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new MasterMetrics(services.GetRequiredService<IMeterFactory>());
        var longs = new Dictionary<string, long>();
        var doubles = new List<(string Name, double Value)>();
        int generation = -1;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MasterMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            longs[instrument.Name] = longs.GetValueOrDefault(instrument.Name) + value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => doubles.Add((instrument.Name, value)));
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            if (instrument.Name == "gracefulhosting.generation")
            {
                generation = value;
            }
        });
        listener.Start();

        metrics.GenerationServing(1);
        metrics.RestartCompleted(TimeSpan.FromMilliseconds(250));
        metrics.GenerationServing(2);
        metrics.RestartCompleted(TimeSpan.FromMilliseconds(750));
        metrics.RolledBack();
        metrics.ChildCrashed();
        metrics.ChildCrashed();
        listener.RecordObservableInstruments();

        Assert.Equal(2, longs["gracefulhosting.restarts"]);
        Assert.Equal(1, longs["gracefulhosting.rollbacks"]);
        Assert.Equal(2, longs["gracefulhosting.child_crashes"]);
        Assert.Equal([0.25, 0.75], doubles.Where(d => d.Name == "gracefulhosting.restart.duration").Select(d => d.Value));
        Assert.Equal(2, generation);
    }
}
