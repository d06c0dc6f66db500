// Watching a process for its exit on the event loop: a pidfd turns readable
// once the process has exited (a zombie counts), so a uv_poll on it calls
// back without a thread per process. The library reaps the containers it
// creates this way (src/lib/reaper.ts): a long-running caller is their
// parent (CLONE_PARENT) and would otherwise collect zombies.
//
// Node only: Bun implements no libuv. The CLI never calls this (it waits
// with waitpidAsync), and the symbols are bound lazily, so the addon still
// loads under Bun.
#include <uv.h>

#include "errors.h"

namespace hako {
namespace {

struct ExitWatch {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback = nullptr;
  napi_async_context async = nullptr;
  bool closed = false;
};

void Freed(uv_handle_t* handle) { delete static_cast<ExitWatch*>(handle->data); }

void Close(ExitWatch* w) {
  if (w->closed) return;
  w->closed = true;
  uv_poll_stop(&w->poll);
  if (w->callback) napi_delete_reference(w->env, w->callback);
  if (w->async) napi_async_destroy(w->env, w->async);
  w->callback = nullptr;
  w->async = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), Freed);
}

// One shot: the poll stops before JavaScript runs; the callback then reaps
// and calls exitUnwatch.
void OnReadable(uv_poll_t* handle, int status, int events) {
  ExitWatch* w = static_cast<ExitWatch*>(handle->data);
  uv_poll_stop(handle);
  if (w->closed || !w->callback) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, result;
  napi_get_reference_value(env, w->callback, &cb);
  // The receiver must be an object (napi_make_callback refuses undefined).
  napi_get_global(env, &recv);
  // make_callback runs the microtasks the callback queued (promise
  // reactions) and reports a throw as an uncaught exception.
  if (napi_make_callback(env, w->async, recv, cb, 0, nullptr, &result) ==
      napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

ExitWatch* WatchArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    ThrowType(info.Env(), "watch must be what exitWatch returned");
    return nullptr;
  }
  return info[0].As<Napi::External<ExitWatch>>().Data();
}

// exitWatch(pidfd, callback): starts watching; the watch holds the event
// loop open (see exitWatchRef) until exitUnwatch.
Napi::Value Watch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t pidfd;
  if (!ArgInt(info, 0, "pidfd", &pidfd)) return env.Null();
  if (info.Length() < 2 || !info[1].IsFunction()) {
    ThrowType(env, "callback must be a function");
    return env.Null();
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    ThrowType(env, "exitWatch needs Node's event loop");
    return env.Null();
  }
  ExitWatch* w = new ExitWatch();
  w->env = env;
  int rc = uv_poll_init(loop, &w->poll, pidfd);
  if (rc != 0) {
    delete w;
    ThrowErrno(env, -rc, "uv_poll_init");
    return env.Null();
  }
  w->poll.data = w;
  napi_create_reference(env, info[1], 1, &w->callback);
  napi_async_init(env, nullptr, Napi::String::New(env, "hako:exitWatch"), &w->async);
  rc = uv_poll_start(&w->poll, UV_READABLE, OnReadable);
  if (rc != 0) {
    Close(w);
    ThrowErrno(env, -rc, "uv_poll_start");
    return env.Null();
  }
  return Napi::External<ExitWatch>::New(env, w);
}

// exitWatchRef(watch, on): whether the watch alone keeps the process
// running (a caller awaiting the exit) or not (reaping in the background).
Napi::Value Ref(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ExitWatch* w = WatchArg(info);
  bool on;
  if (!w || !ArgBool(info, 1, "on", true, &on)) return env.Null();
  if (w->closed) return env.Undefined();
  uv_handle_t* h = reinterpret_cast<uv_handle_t*>(&w->poll);
  if (on) uv_ref(h);
  else uv_unref(h);
  return env.Undefined();
}

// exitUnwatch(watch): stops and frees it; the pidfd stays the caller's.
Napi::Value Unwatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ExitWatch* w = WatchArg(info);
  if (!w) return env.Null();
  Close(w);
  return env.Undefined();
}

}  // namespace

void InitExitWatch(Napi::Env env, Napi::Object exports) {
  exports.Set("exitWatch", Napi::Function::New(env, Watch, "exitWatch"));
  exports.Set("exitWatchRef", Napi::Function::New(env, Ref, "exitWatchRef"));
  exports.Set("exitUnwatch", Napi::Function::New(env, Unwatch, "exitUnwatch"));
}

}  // namespace hako
