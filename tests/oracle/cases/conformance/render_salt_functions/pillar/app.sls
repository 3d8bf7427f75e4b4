app:
  name: webapp
