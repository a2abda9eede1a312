"""Loading the intent classifier's weights without a training step.

Rasa 3.6 (``RasaModel.load``) builds an empty model's weights by *training* it on one
example (``model.fit``: a traced training step, gradients, an optimizer update), then
overwrites them with the saved ones. That step was 7.1 of the 12.1 s a replica took to
load its model here (2026-12-03, measured in-process), on every start of every replica.

Here the weights are built by one eager prediction instead, the saved weights loaded
over them, the label embeddings computed again from the loaded weights (the eager
prediction cached them from the initial ones), and the prediction graph traced once,
as Rasa does. The loaded model predicts exactly what Rasa's loading gives
(tests/rasa_ext/test_model_loading.py compares every intent confidence of the NLU test
set). Fine-tuning (``finetune_mode``) and a load without a prediction example keep
Rasa's way: they need the optimizer's state.
"""

from __future__ import annotations

from typing import Any, Optional, Text

STOCK_LOAD: Any = None


def load(cls: Any, model_file_name: Text, model_data_example: Any, predict_data_example: Optional[Any] = None,
         finetune_mode: bool = False, *args: Any, **kwargs: Any) -> Any:
    if finetune_mode or predict_data_example is None:
        return STOCK_LOAD(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                          *args, **kwargs)
    from rasa.utils.tensorflow.constants import RUN_EAGERLY

    model = cls(*args, **kwargs)
    # No optimizer (Rasa compiles one only to take that training step): nothing trains it.
    model._run_eagerly = True  # builds every weight a prediction uses, tracing no graph
    model.run_inference(predict_data_example)
    model._run_eagerly = kwargs.get("config", {}).get(RUN_EAGERLY)  # as Rasa's compile sets it
    # The optimizer's slots in the file have nothing to load into: expected, not an error.
    model.load_weights(model_file_name).expect_partial()
    model.prepare_for_predict()  # label embeddings from the loaded weights
    model.run_inference(predict_data_example)  # the first prediction traces the graph, as in Rasa
    return model


def install() -> None:
    global STOCK_LOAD
    from rasa.utils.tensorflow.models import RasaModel

    if STOCK_LOAD is None:
        STOCK_LOAD = RasaModel.load.__func__
    RasaModel.load = classmethod(load)
