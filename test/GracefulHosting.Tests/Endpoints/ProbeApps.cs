using GracefulHosting.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulHosting.Tests.Endpoints;

/// <summary>Slim web apps built in-process and never started, each with the probe of its own Kestrel; disposed together.</summary>
internal sealed class ProbeApps : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];

    /// <summary>Builds an app from <paramref name="args"/> and <paramref name="kestrel"/>, runs <paramref name="configure"/> on it, and returns it with its probe.</summary>
    public (WebApplication App, KestrelEndpointProbe Probe) Create(string[]? args = null, Action<KestrelServerOptions>? kestrel = null,
        Action<WebApplication>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        if (kestrel is not null)
        {
            builder.WebHost.ConfigureKestrel(kestrel);
        }

        var app = builder.Build();
        _apps.Add(app);
        configure?.Invoke(app);
        return (app, ActivatorUtilities.CreateInstance<KestrelEndpointProbe>(app.Services));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }
}

/// <summary>Endpoint settings as the app's configuration gives them.</summary>
internal static class TestSettings
{
    /// <summary>A <c>Kestrel</c> configuration section with these keys below it.</summary>
    public static IConfigurationSection Kestrel(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>("Kestrel:" + v.Key, v.Value)))
            .Build()
            .GetSection("Kestrel");

    /// <summary>Hosting URLs as <c>urls</c> gives them.</summary>
    public static HostingAddresses Hosting(params string[] urls) => new(urls, false, "urls");
}
