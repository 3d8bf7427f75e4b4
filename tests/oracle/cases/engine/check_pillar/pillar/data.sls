role: web
nested:
  a: 1
