using GracefulHosting.Diagnostics;
using GracefulHosting.Hosting;
using Serilog.Events;
using Serilog.Parsing;

namespace GracefulHosting.Tests.Diagnostics;

public class GracefulRestartEnricherTests
{
    [Fact]
    public void Enrich_ChildContext_AddsPidRoleAndGeneration()
    {
        var logEvent = new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Information, null,
            new MessageTemplateParser().Parse("hello"), []);

        new GracefulRestartEnricher(new GracefulRestartContext(GracefulRestartRole.Child, 7)).Enrich(logEvent, null!);

        Assert.Equal(Environment.ProcessId, ((ScalarValue)logEvent.Properties["pid"]).Value);
        Assert.Equal("child", ((ScalarValue)logEvent.Properties["role"]).Value);
        Assert.Equal(7, ((ScalarValue)logEvent.Properties["generation"]).Value);
    }

    [Fact]
    public void Enrich_PropertyAlreadySet_KeepsTheEventsValue()
    {
        var logEvent = new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Information, null,
            new MessageTemplateParser().Parse("hello"), [new LogEventProperty("role", new ScalarValue("custom"))]);

        new GracefulRestartEnricher(new GracefulRestartContext(GracefulRestartRole.Master, 0)).Enrich(logEvent, null!);

        Assert.Equal("custom", ((ScalarValue)logEvent.Properties["role"]).Value);
    }
}
