base:
  '*':
    - app.init_ctx
    - app
