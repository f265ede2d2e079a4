%% A gen_statem that arms one state timeout at start (relative or absolute) and, when it fires, reports how late
%% it was: the OTP side of machines_100k_*, timeouts_100k_lateness_p99 and timeouts_100k_herd_p99.
-module(ss_timeout).
-behaviour(gen_statem).
-export([start/2, init/1, callback_mode/0, handle_event/4]).

%% Deadline: absolute erlang:monotonic_time(microsecond) at which to fire; Collector: pid or none.
start(Deadline, Collector) -> gen_statem:start(?MODULE, {Deadline, Collector}, []).

callback_mode() -> handle_event_function.

init({Deadline, Collector}) ->
    Ms = erlang:convert_time_unit(Deadline, microsecond, millisecond),
    {ok, waiting, {Deadline, Collector}, [{state_timeout, Ms, fire, [{abs, true}]}]}.

handle_event(state_timeout, fire, waiting, {Deadline, Collector}) ->
    Late = erlang:monotonic_time(microsecond) - Deadline,
    case Collector of none -> ok; _ -> Collector ! {late, Late} end,
    {next_state, done, {Deadline, Collector}};
handle_event(_, _, _, D) -> {keep_state, D}.
