"""The bare Flask page `make bench` compares every page with: a fixed text, nothing else."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hallo"
