using System.Net;

namespace GracefulHosting.Endpoints;

/// <summary>One endpoint of the app's Kestrel configuration, as the master binds it.</summary>
/// <param name="Name">The endpoint name (<c>Kestrel:Endpoints:&lt;Name&gt;</c>), or a generated one for URLs.</param>
/// <param name="Url">The URL as configured.</param>
/// <param name="Source">The configuration key the URL came from, for error messages.</param>
/// <param name="Targets">The sockets Kestrel would bind for this URL.</param>
internal sealed record ListenEndpoint(string Name, string Url, string Source, IReadOnlyList<BindTarget> Targets);

/// <summary>One socket Kestrel binds for an endpoint.</summary>
/// <param name="EndPoint">The address Kestrel asks its transport to bind.</param>
/// <param name="Required">False for the IPv6 half of <c>localhost</c>, which Kestrel also treats as optional.</param>
internal sealed record BindTarget(IPEndPoint EndPoint, bool Required);
