%% A three-state gen_statem changing state on every cast, optionally re-arming a state timeout on every
%% transition: the OTP side of statem_event and statem_event_state_timeout.
-module(ss_cycle).
-behaviour(gen_statem).
-export([start/1, init/1, callback_mode/0, handle_event/4]).

start(WithTimeout) -> gen_statem:start(?MODULE, WithTimeout, []).

callback_mode() -> handle_event_function.

init(WithTimeout) -> {ok, a, {WithTimeout, 0}}.

handle_event(cast, step, S, {true, N}) -> {next_state, next(S), {true, N + 1}, [{state_timeout, 1000, tick}]};
handle_event(cast, step, S, {false, N}) -> {next_state, next(S), {false, N + 1}};
handle_event({call, From}, get, _S, {_, N} = D) -> {keep_state, D, [{reply, From, N}]};
handle_event(state_timeout, tick, _S, D) -> {keep_state, D}.

next(a) -> b;
next(b) -> c;
next(c) -> a.
