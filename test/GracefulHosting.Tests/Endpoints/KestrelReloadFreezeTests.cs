using GracefulHosting.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Tests.Endpoints;

public sealed class KestrelReloadFreezeTests : IAsyncLifetime
{
    private readonly WebApplication _app = WebApplication.CreateSlimBuilder().Build();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _app.DisposeAsync().AsTask();

    [Fact]
    public void Wrap_FirstStepCreatesLoader_ReplacedByOneOverTheSameSection()
    {
        var section = _app.Configuration.GetSection("Kestrel");
        KestrelConfigurationLoader? created = null;
        var freeze = new KestrelReloadFreeze();
        var options = Options();

        freeze.Wrap(new ConfigureOptions<KestrelServerOptions>(o => created = o.Configure(section, reloadOnChange: true))).Configure(options);

        Assert.NotNull(created);
        Assert.NotSame(created, options.ConfigurationLoader);
        Assert.Same(section, options.ConfigurationLoader!.Configuration);
    }

    [Fact]
    public void Wrap_LaterStepCreatesLoader_KeptAsItIs()
    {
        var freeze = new KestrelReloadFreeze();
        var options = Options();
        KestrelConfigurationLoader? second = null;

        freeze.Wrap(new ConfigureOptions<KestrelServerOptions>(o => o.Configure(_app.Configuration.GetSection("Kestrel"), reloadOnChange: true))).Configure(options);
        freeze.Wrap(new ConfigureOptions<KestrelServerOptions>(o => second = o.Configure(_app.Configuration.GetSection("Other")))).Configure(options);

        Assert.Same(second, options.ConfigurationLoader);
    }

    [Fact]
    public void Wrap_StepsThatCreateNoLoader_RunAndChangeNothingElse()
    {
        var freeze = new KestrelReloadFreeze();
        var options = Options();

        freeze.Wrap(new ConfigureOptions<KestrelServerOptions>(o => o.AddServerHeader = false)).Configure(options);

        Assert.False(options.AddServerHeader);
        Assert.Null(options.ConfigurationLoader);
    }

    [Fact]
    public void Wrap_NamedStep_RunsForItsNameOnly()
    {
        var freeze = new KestrelReloadFreeze();
        var options = Options();
        var step = (IConfigureNamedOptions<KestrelServerOptions>)freeze.Wrap(new ConfigureNamedOptions<KestrelServerOptions>("other", o => o.AddServerHeader = false));

        step.Configure(Microsoft.Extensions.Options.Options.DefaultName, options);
        Assert.True(options.AddServerHeader);
        step.Configure("other", options);
        Assert.False(options.AddServerHeader);
    }

    private KestrelServerOptions Options() => new() { ApplicationServices = _app.Services };
}
