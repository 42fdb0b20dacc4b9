"""Runs a short tiny-model distillation under a tf.distribute strategy and writes its loss
trajectory as JSON. Used by tests/test_distributed.py in fresh processes, because logical
devices and TF_CONFIG must be set before TensorFlow starts.

Usage: python tests/distributed_fit.py {single|mirrored|worker} OUTPUT_JSON INITIAL_WEIGHTS_NPZ
"""

import json
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

GLOBAL_BATCH = 8
EPOCHS = 3


def strategy_for(mode):
    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    if mode == "worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def main(mode, output, initial_weights):
    strategy = strategy_for(mode)
    import tf_keras as keras

    from tfdistill.distill import Distiller
    from tfdistill.distill.testing import tiny_batch, tiny_pair

    features, labels = tiny_batch(32)
    dataset = tf.data.Dataset.from_tensor_slices((features, labels)).batch(GLOBAL_BATCH)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)
    with strategy.scope():
        teacher, student = tiny_pair(seed=0)
        distiller = Distiller(student=student, teacher=teacher,
                              losses=["logit_kd", "hard_label", "hidden_mse", {"loss": "attention", "head_average": True}])
        distiller.compile(optimizer=keras.optimizers.SGD(0.05))
    # Every run starts from the single-device run's initial values (student, projections, teacher).
    variables = distiller.trainable_weights + teacher.weights
    if os.path.exists(initial_weights):
        with np.load(initial_weights) as saved:
            for index, variable in enumerate(variables):
                variable.assign(saved[f"v{index}"])
    else:
        np.savez(initial_weights, **{f"v{index}": v.numpy() for index, v in enumerate(variables)})
    history = distiller.fit(dataset, epochs=EPOCHS, verbose=0)
    with open(output, "w") as f:
        json.dump({key: [float(v) for v in values] for key, values in history.history.items()}, f)
    print("replicas", strategy.num_replicas_in_sync, "loss", np.round(history.history["loss"], 6))


if __name__ == "__main__":
    main(*sys.argv[1:4])
